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

// get64 reads v little endian, as the Go side (Args) writes it.
static uint64_t get64(const unsigned char *p) {
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
	return v;
}

// exec_rows binds each of nrows rows of buf (values as Args writes them: a type byte,
// then 8 bytes of an integer or float, or 4 bytes of length and the bytes of
// a text) to s and steps it to the end, RETURNING rows ignored. Text is bound
// SQLITE_STATIC: buf outlives the step, and the bindings are cleared before
// returning, so SQLite keeps no pointer into it. *used is the bytes of the
// rows done. On an error, *done is the row that failed (its changes undone
// by SQLite's statement rollback) and the rows before it stay written.
static int exec_rows(sqlite3_stmt *s, int ncol, int nrows, const unsigned char *buf, int *used, int *done) {
	int off = 0, rc = SQLITE_OK;
	*done = 0;
	while (*done < nrows) {
		for (int i = 1; i <= ncol && rc == SQLITE_OK; i++) {
			int t = buf[off];
			if (t == SQLITE_INTEGER) {
				rc = sqlite3_bind_int64(s, i, (sqlite3_int64)get64(buf + off + 1));
				off += 9;
			} else if (t == SQLITE_FLOAT) {
				uint64_t bits = get64(buf + off + 1);
				double d;
				memcpy(&d, &bits, 8);
				rc = sqlite3_bind_double(s, i, d);
				off += 9;
			} else if (t == SQLITE_NULL) {
				rc = sqlite3_bind_null(s, i);
				off++;
			} else {
				int n = (int)((uint32_t)buf[off + 1] | (uint32_t)buf[off + 2] << 8 |
					(uint32_t)buf[off + 3] << 16 | (uint32_t)buf[off + 4] << 24);
				rc = sqlite3_bind_text(s, i, n > 0 ? (const char *)buf + off + 5 : "", n, (void (*)(void *))0);
				off += 5 + n;
			}
		}
		if (rc != SQLITE_OK) break;
		do rc = sqlite3_step(s); while (rc == SQLITE_ROW);
		// The extended code (which constraint failed) unless the
		// connection reports extended codes itself.
		if (rc != SQLITE_DONE) rc = sqlite3_extended_errcode(sqlite3_db_handle(s));
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) break;
		rc = SQLITE_OK;
		(*done)++;
		*used = off;
	}
	sqlite3_clear_bindings(s);
	return rc;
}

// sb_exec runs exec_rows holding the connection's mutex, as sb_fill does.
int sb_exec(sqlite3_stmt *s, int ncol, int nrows, const unsigned char *buf, int *used, int *done) {
	sqlite3_mutex *m = sqlite3_db_mutex(sqlite3_db_handle(s));
	if (m) sqlite3_mutex_enter(m);
	*used = 0;
	int rc = exec_rows(s, ncol, nrows, buf, used, done);
	if (m) sqlite3_mutex_leave(m);
	return rc;
}
