#!/usr/bin/env bash
# The least SQLite itself spends on what an import of people writes, on this machine.
#
# usage: bench/sqlite-floor.sh ANCHORA_DB [WORK_DIR]
#
# ANCHORA_DB is a SQLite workspace after `anchora import` of the bench's people (anchora-bench
# leaves one in DIR/import-sqlite/anchora.db). Its people, companies, change-log rows and search
# documents are copied table to table, inside SQLite, into a new database with the same tables
# and indexes: no CSV, no validation, no Rust, rows already sorted by key. Every step is timed
# with the sqlite3 shell's timer, once in WAL mode (as Anchora runs) and once with no journal at
# all (a lower bound no transactional writer reaches).
#
# The full-text rows are made from the same documents' titles and the people's searchable
# fields; the sqlite3 shell may predate FTS5's contentless_delete, so that option is left out.
set -euo pipefail
src=$(realpath "$1")
work=${2:-$(mktemp -d)}
mkdir -p "$work"

tables() {
  sqlite3 "$src" "SELECT sql || ';' FROM sqlite_master WHERE type = 'table' AND name IN ('obj_person', 'obj_company', 'change_log', 'search_doc')"
  sqlite3 "$src" "SELECT sql || ';' FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('change_log', 'search_doc')"
  echo "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='', tokenize='unicode61 remove_diacritics 2');"
}
object_indexes() {
  sqlite3 "$src" "SELECT sql || ';' FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('obj_person', 'obj_company')"
}

for mode in "wal NORMAL" "off OFF"; do
  set -- $mode
  db="$work/floor-$1.db"
  rm -f "$db" "$db-wal" "$db-shm"
  {
    echo "PRAGMA journal_mode = $1; PRAGMA synchronous = $2; PRAGMA cache_size = -16384; PRAGMA temp_store = memory; PRAGMA wal_autocheckpoint = 10000;"
    tables
    echo "ATTACH '$src' AS src;"
    echo ".timer on"
    echo "BEGIN; INSERT INTO obj_person SELECT * FROM src.obj_person; COMMIT;"
    echo "BEGIN; INSERT INTO obj_company SELECT * FROM src.obj_company; COMMIT;"
    echo "BEGIN; INSERT INTO change_log SELECT * FROM src.change_log; COMMIT;"
    echo "BEGIN; INSERT INTO search_doc SELECT * FROM src.search_doc; COMMIT;"
    echo "BEGIN; INSERT INTO search_fts (rowid, title, body) SELECT d.doc, d.title, coalesce(p.email, '') || ' ' || coalesce(p.phone, '') || ' ' || coalesce(p.title, '') || ' ' || coalesce(p.city, '') FROM src.search_doc d LEFT JOIN src.obj_person p ON p.id = d.record_id; COMMIT;"
    object_indexes
  } >"$work/floor-$1.sql"
  echo "== journal_mode $1, synchronous $2"
  sqlite3 "$db" <"$work/floor-$1.sql" 2>&1 | awk '
    /^Run Time/ { n++; real += $4; step[n] = $4 }
    END {
      printf "people %.1f s · companies %.1f s · change log %.1f s · search documents %.1f s · full text %.1f s · %d indexes %.1f s · total %.1f s\n",
        step[1], step[2], step[3], step[4], step[5], n - 5, real - step[1] - step[2] - step[3] - step[4] - step[5], real
    }'
done
