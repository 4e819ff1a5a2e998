// The few SQLite entry points package sqlitebatch calls. They are declared
// weak here: the definitions are those go-sqlite3 compiles into the binary
// (its amalgamation), found when the program is linked; cgo's own test link
// of this package alone must not fail on them.
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef long long sqlite3_int64;

#define SQLITE_OK 0
#define SQLITE_ROW 100
#define SQLITE_DONE 101
#define SQLITE_INTEGER 1
#define SQLITE_FLOAT 2
#define SQLITE_TEXT 3
#define SQLITE_BLOB 4
#define SQLITE_NULL 5

// Results of sb_fill besides SQLite's error codes.
#define SB_DONE -1
#define SB_FULL -2

#define SB_WEAK __attribute__((weak))
SB_WEAK int sqlite3_prepare_v2(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
SB_WEAK int sqlite3_finalize(sqlite3_stmt *);
SB_WEAK int sqlite3_step(sqlite3_stmt *);
SB_WEAK int sqlite3_column_count(sqlite3_stmt *);
SB_WEAK int sqlite3_column_type(sqlite3_stmt *, int);
SB_WEAK sqlite3_int64 sqlite3_column_int64(sqlite3_stmt *, int);
SB_WEAK double sqlite3_column_double(sqlite3_stmt *, int);
SB_WEAK const unsigned char *sqlite3_column_text(sqlite3_stmt *, int);
SB_WEAK const void *sqlite3_column_blob(sqlite3_stmt *, int);
SB_WEAK int sqlite3_column_bytes(sqlite3_stmt *, int);
SB_WEAK int sqlite3_bind_parameter_count(sqlite3_stmt *);
SB_WEAK int sqlite3_bind_int64(sqlite3_stmt *, int, sqlite3_int64);
SB_WEAK int sqlite3_bind_double(sqlite3_stmt *, int, double);
SB_WEAK int sqlite3_bind_text(sqlite3_stmt *, int, const char *, int, void (*)(void *));
SB_WEAK int sqlite3_bind_blob(sqlite3_stmt *, int, const void *, int, void (*)(void *));
SB_WEAK int sqlite3_bind_null(sqlite3_stmt *, int);
SB_WEAK const char *sqlite3_errmsg(sqlite3 *);
SB_WEAK void sqlite3_interrupt(sqlite3 *);
typedef struct sqlite3_mutex sqlite3_mutex;
typedef struct sqlite3_value sqlite3_value;
SB_WEAK sqlite3_value *sqlite3_column_value(sqlite3_stmt *, int);
SB_WEAK int sqlite3_value_type(sqlite3_value *);
SB_WEAK sqlite3_int64 sqlite3_value_int64(sqlite3_value *);
SB_WEAK double sqlite3_value_double(sqlite3_value *);
SB_WEAK const unsigned char *sqlite3_value_text(sqlite3_value *);
SB_WEAK const void *sqlite3_value_blob(sqlite3_value *);
SB_WEAK int sqlite3_value_bytes(sqlite3_value *);
SB_WEAK sqlite3 *sqlite3_db_handle(sqlite3_stmt *);
SB_WEAK int sqlite3_reset(sqlite3_stmt *);
SB_WEAK int sqlite3_extended_errcode(sqlite3 *);
SB_WEAK int sqlite3_clear_bindings(sqlite3_stmt *);
SB_WEAK sqlite3_mutex *sqlite3_db_mutex(sqlite3 *);
SB_WEAK void sqlite3_mutex_enter(sqlite3_mutex *);
SB_WEAK void sqlite3_mutex_leave(sqlite3_mutex *);

int sb_fill(sqlite3_stmt *s, int ncol, int pending, unsigned char *buf, int cap, int *used, int *rows);
int sb_exec(sqlite3_stmt *s, int ncol, int nrows, const unsigned char *buf, int *used, int *done);
