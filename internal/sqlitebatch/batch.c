// Batched row reading for package sqlitebatch: see batch.go.
#include <string.h>
#include <stdint.h>
#include "batch.h"

// put64 writes v little endian, as the Go side reads it.
static void put64(unsigned char *p, uint64_t v) {
	for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

// A row is written only whole: when it does not fit, it stays pending
// (stepped but not written) for the next call. The values are read through
// sqlite3_column_value once per column and sqlite3_value_ functions, which
// unlike the sqlite3_column_ ones do not each take the connection's mutex:
// sb_fill holds it for the whole batch, which is what makes them safe.
static int put_row(sqlite3_stmt *s, int ncol, unsigned char *buf, int cap, int *used) {
	int n = *used;
	for (int i = 0; i < ncol; i++) {
		sqlite3_value *v = sqlite3_column_value(s, i);
		int t = sqlite3_value_type(v);
		if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
			if (n + 9 > cap) return 0;
			buf[n] = (unsigned char)t;
			if (t == SQLITE_INTEGER) {
				put64(buf + n + 1, (uint64_t)sqlite3_value_int64(v));
			} else {
				double d = sqlite3_value_double(v);
				uint64_t bits;
				memcpy(&bits, &d, 8);
				put64(buf + n + 1, bits);
			}
			n += 9;
		} else if (t == SQLITE_NULL) {
			if (n + 1 > cap) return 0;
			buf[n++] = SQLITE_NULL;
		} else {
			const void *p = t == SQLITE_TEXT ? (const void *)sqlite3_value_text(v) : sqlite3_value_blob(v);
			int len = sqlite3_value_bytes(v);
			if (n + 5 + len > cap) return 0;
			buf[n] = (unsigned char)t;
			for (int k = 0; k < 4; k++) buf[n + 1 + k] = (unsigned char)((uint32_t)len >> (8 * k));
			if (len > 0) memcpy(buf + n + 5, p, len);
			n += 5 + len;
		}
	}
	*used = n;
	return 1;
}

static int fill(sqlite3_stmt *s, int ncol, int pending, unsigned char *buf, int cap, int *used, int *rows) {
	*used = 0;
	*rows = 0;
	for (;;) {
		if (!pending) {
			int rc = sqlite3_step(s);
			if (rc == SQLITE_DONE) return SB_DONE;
			if (rc != SQLITE_ROW) return rc;
		}
		pending = 0;
		if (!put_row(s, ncol, buf, cap, used)) return SB_FULL;
		(*rows)++;
	}
}

// sb_fill steps rows into buf. Every sqlite3_column_ call of a serialized
// connection takes the connection's mutex; holding it (it is recursive)
// across the batch makes those nested takes cheap. The mutex is the
// connection's own and is released before returning.
int sb_fill(sqlite3_stmt *s, int ncol, int pending, unsigned char *buf, int cap, int *used, int *rows) {
	sqlite3_mutex *m = sqlite3_db_mutex(sqlite3_db_handle(s));
	if (m) sqlite3_mutex_enter(m);
	int rc = fill(s, ncol, pending, buf, cap, used, rows);
	if (m) sqlite3_mutex_leave(m);
	return rc;
}
