# MAF: maf_household over 1M addresses (3M persons) against array_agg grouped the same way
# (the floor), and the MAF counter maf_refund over MAF_BENCH_CONTRIBUTIONS contributions
# (default 30M) against sum() OVER the same window (the floor). Every result is consumed
# (sum of cardinalities, sum of refunds). Every query runs serially (one core each: the
# same parallelism for all, and the per-core figures capacity planning needs), the
# contenders of a comparison in turn, round after round (BENCH_RUNS, default 3).
MAF_BENCH_ADDRESSES=${MAF_BENCH_ADDRESSES:-1000000}
MAF_BENCH_CONTRIBUTIONS=${MAF_BENCH_CONTRIBUTIONS:-30000000}
echo "  $MAF_BENCH_ADDRESSES addresses, $MAF_BENCH_CONTRIBUTIONS contributions"

# Persons: 1 to 5 per address (3 on average); one address in ten has TP persons hosted by
# a host family (its first person), with a child under 16 without TP.
bench_sql -v addresses="$MAF_BENCH_ADDRESSES" <<'SQL'
DROP TABLE IF EXISTS bench_maf_person, bench_maf_contribution;
CREATE FUNCTION pg_temp.niss(d date, s int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT nine || lpad((97 - ((CASE WHEN d >= '2000-01-01' THEN 2000000000 ELSE 0 END
                                + nine::bigint) % 97))::text, 2, '0')
    FROM (SELECT to_char(d, 'YYMMDD') || lpad(s::text, 3, '0') AS nine) AS x $$;
CREATE TABLE bench_maf_person AS
SELECT a AS address, pg_temp.niss(birth, (a * 5 + k) % 1000) AS niss, birth,
       (a + k) % 3 = 0 AS has_im,
       CASE WHEN (a + k) % 3 <> 0 THEN NULL WHEN (a + k) % 11 = 0 THEN 'integration_allowance_abated' ELSE 'benefit' END AS im_basis,
       tp_address AND k > 1 AND k < 5 AS tp,
       CASE WHEN tp_address THEN k = 1 OR k = 5 END AS host,
       NULL::text AS spouse_niss, NULL::text AS dependent_of
FROM (SELECT a, k, a % 10 = 0 AS tp_address,
             CASE WHEN a % 10 = 0 AND k = 5 THEN date '2015-01-01' + a % 2000
                  ELSE date '1940-01-01' + (a * 7 + k * 3001) % 20000 END AS birth
      FROM generate_series(1, :addresses) AS a, generate_series(1, 5) AS k
      WHERE k <= 1 + (a % 5) OR a % 10 = 0) AS g
ORDER BY a, k;
ANALYZE bench_maf_person;
SQL
bench_sql -c "SELECT count(*) AS persons, count(DISTINCT address) AS addresses FROM bench_maf_person"

SERIAL="SET max_parallel_workers_per_gather = 0;"
bench_rounds "MAF floor: array_agg(niss) GROUP BY address" \
	"$SERIAL SELECT sum(cardinality(h)) FROM (SELECT address, array_agg(niss) AS h FROM bench_maf_person GROUP BY address) s" \
	"MAF array_agg(ROW(the 9 arguments)) GROUP BY address" \
	"$SERIAL SELECT sum(cardinality(h)) FROM (SELECT address, array_agg(ROW(2024, niss, birth, has_im, im_basis, tp, host, spouse_niss, dependent_of)) AS h FROM bench_maf_person GROUP BY address) s" \
	"MAF maf_household(...) GROUP BY address" \
	"$SERIAL SELECT sum(cardinality(h)) FROM (SELECT address, inami.maf_household(2024, niss, birth, has_im, im_basis, tp, host, spouse_niss, dependent_of) AS h FROM bench_maf_person GROUP BY address) s" \
	"MAF maf_household(...) GROUP BY address, rows unnested" \
	"$SERIAL SELECT count(*) FILTER (WHERE (m).is_maf_social), sum((m).maf_household_no) FROM (SELECT unnest(inami.maf_household(2024, niss, birth, has_im, im_basis, tp, host, spouse_niss, dependent_of)) AS m FROM bench_maf_person GROUP BY address) s"
bench_ratio "MAF maf_household(...) GROUP BY address" "MAF floor: array_agg(niss) GROUP BY address"
bench_ratio "MAF maf_household(...) GROUP BY address" "MAF array_agg(ROW(the 9 arguments)) GROUP BY address"
bench_sql -c "DROP TABLE bench_maf_person"

# Contributions: 30 per household on average, amounts 0.01-150.00 with one correction in 50.
bench_sql -v n="$MAF_BENCH_CONTRIBUTIONS" <<'SQL'
CREATE TABLE bench_maf_contribution AS
SELECT (i / 30)::int AS household, i AS id, date '2024-01-01' + ((i * 7919) % 366)::int AS day,
       CASE WHEN i % 50 = 0 THEN -round(((i * 31) % 5000) / 100.0, 2)
            ELSE round((1 + (i * 7919) % 15000) / 100.0, 2) END AS amount
FROM generate_series(1::bigint, :n) AS i;
ANALYZE bench_maf_contribution;
SQL
bench_rounds "MAF floor: sum(amount) OVER (PARTITION BY household ORDER BY day, id)" \
	"$SERIAL SELECT sum(r) FROM (SELECT sum(amount) OVER (PARTITION BY household ORDER BY day, id) AS r FROM bench_maf_contribution) s" \
	"MAF maf_refund(amount, 450) OVER (PARTITION BY household ORDER BY day, id)" \
	"$SERIAL SELECT sum(r) FROM (SELECT inami.maf_refund(amount, 450.00) OVER (PARTITION BY household ORDER BY day, id) AS r FROM bench_maf_contribution) s" \
	"MAF floor: sum(amount) GROUP BY household" \
	"$SERIAL SELECT sum(r) FROM (SELECT sum(amount) AS r FROM bench_maf_contribution GROUP BY household) s" \
	"MAF maf_refunded(amount, 450) GROUP BY household" \
	"$SERIAL SELECT sum(r) FROM (SELECT inami.maf_refunded(amount, 450.00) AS r FROM bench_maf_contribution GROUP BY household) s"
bench_ratio "MAF maf_refund(amount, 450) OVER (PARTITION BY household ORDER BY day, id)" "MAF floor: sum(amount) OVER (PARTITION BY household ORDER BY day, id)"
bench_ratio "MAF maf_refunded(amount, 450) GROUP BY household" "MAF floor: sum(amount) GROUP BY household"
bench_sql -c "DROP TABLE bench_maf_contribution"
