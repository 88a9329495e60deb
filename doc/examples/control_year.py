#!/usr/bin/env python3
"""A control year from Python with psycopg 3: load the files, run the control, read the
decisions, write the Syst_05, and read an error by its SQLSTATE.

    python3 control_year.py YEAR OA FILE...      (PGHOST, PGPORT, PGDATABASE, PGUSER as for psql)
"""
import sys

import psycopg
from psycopg import errors

year, oa, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]

# autocommit: run_systematic_control commits as it goes, which a procedure can do only when
# it is called outside a transaction block; psycopg opens one by default, and CALL inside it
# fails with "invalid transaction termination" (2D000).
with psycopg.connect(autocommit=True) as conn:
    for f in files:
        # a load is one statement: all or nothing
        (households,) = conn.execute("SELECT inami.load_flow_file(%s)", [f]).fetchone()
        print(f"loaded {f}: {households} households")

    conn.execute("CALL inami.run_systematic_control(%s)", [year])
    for reason, n in conn.execute(
            "SELECT reason, count(*) FROM inami.control_decision"
            " WHERE control_year = %s GROUP BY reason ORDER BY reason", [year]):
        print(f"{reason}: {n}")

    try:
        (document,) = conn.execute("SELECT inami.syst05_document(%s, %s)::text", [year, oa]).fetchone()
        print(f"Syst05 of OA {oa}: {document.count('<Feedback ')} feedbacks")
    except errors.ObjectNotInPrerequisiteState as e:  # 55000: decisions still provisional
        print(f"no Syst05 yet ({e.sqlstate}): {e.diag.message_primary}; {e.diag.message_hint}")

    # An error carries its SQLSTATE, DETAIL and HINT; nothing was changed.
    try:
        conn.execute("SELECT inami.im_plafond(2, 2150)")
    except errors.ObjectNotInPrerequisiteState as e:
        print(f"{e.sqlstate}: {e.diag.message_primary} (HINT: {e.diag.message_hint})")
