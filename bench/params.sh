# Parameter lookups: quarterly_dependent_limit and im_plafond over 10M rows,
# against the same query with a constant (the floor) and a join to a table of the values
# (what an analyst would write without the extension). Every result is consumed (sum).
bench_sql <<'SQL'
DROP TABLE IF EXISTS bench_rows, bench_quarter, bench_ceiling;
CREATE TABLE bench_rows AS
SELECT 2009 + (i % 15) AS year, 1 + (i % 4) AS quarter, 1 + (i % 7) AS size,
       make_date(2009 + (i % 15), 1 + (i % 12), 1 + (i % 28)) AS day
FROM generate_series(1, 10000000) AS i;
CREATE TABLE bench_quarter AS
SELECT y AS year, q AS quarter, inami.quarterly_dependent_limit(y, q) AS amount
FROM generate_series(2009, 2023) AS y, generate_series(1, 4) AS q;
CREATE TABLE bench_ceiling AS
SELECT s AS size, 2022 AS income_year, inami.im_plafond(s, 2022) AS amount FROM generate_series(1, 7) AS s;
ANALYZE bench_rows, bench_quarter, bench_ceiling;
SQL
# The contenders of one comparison run in turn, round after round (bench_rounds).
bench_rounds \
	"R1 floor: sum(constant)" "SELECT sum(2892.47::numeric) FROM bench_rows" \
	"R1 quarterly_dependent_limit(year, quarter)" "SELECT sum(inami.quarterly_dependent_limit(year, quarter)) FROM bench_rows" \
	"R1 quarterly_dependent_limit(day)" "SELECT sum(inami.quarterly_dependent_limit(day)) FROM bench_rows" \
	"R1 join to a table of quarters" "SELECT sum(q.amount) FROM bench_rows r JOIN bench_quarter q USING (year, quarter)"
bench_ratio "R1 quarterly_dependent_limit(year, quarter)" "R1 floor: sum(constant)"
bench_ratio "R1 quarterly_dependent_limit(day)" "R1 floor: sum(constant)"
bench_ratio "R1 quarterly_dependent_limit(year, quarter)" "R1 join to a table of quarters"

bench_rounds \
	"R2 floor: sum(constant)" "SELECT sum(36246.38::numeric) FROM bench_rows" \
	"R2 im_plafond(size, 2022)" "SELECT sum(inami.im_plafond(size, 2022)) FROM bench_rows" \
	"R2 join to a table of ceilings" "SELECT sum(c.amount) FROM bench_rows r JOIN bench_ceiling c USING (size)"
bench_ratio "R2 im_plafond(size, 2022)" "R2 floor: sum(constant)"
bench_ratio "R2 im_plafond(size, 2022)" "R2 join to a table of ceilings"
bench_sql -c "DROP TABLE bench_rows, bench_quarter, bench_ceiling"
