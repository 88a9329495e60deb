-- Writing the outgoing documents: the Syst_01 of the households the demo loaded (step 30),
-- checked against xsd/syst01.xsd. With nothing loaded it writes the empty root, valid too.
\pset footer off
SELECT coalesce((SELECT control_year FROM inami.syst01_household ORDER BY control_year DESC, oa LIMIT 1), 2024) AS year,
       coalesce((SELECT oa FROM inami.syst01_household ORDER BY control_year DESC, oa LIMIT 1), '300') AS oa
\gset
\echo 'Syst_01 of OA' :oa 'for control year' :year 'as inami.syst01_document writes it (first 25 lines):'
\pset format unaligned
\pset tuples_only on
SELECT string_agg(line, E'\n' ORDER BY n)
FROM regexp_split_to_table(inami.syst01_document(:year, :'oa')::text, E'\n') WITH ORDINALITY AS l(line, n)
WHERE n <= 25;
SELECT format('(%s households, %s bytes in all)',
              (SELECT count(*) FROM inami.syst01_household WHERE control_year = :year AND oa = :'oa'),
              length(inami.syst01_document(:year, :'oa')::text));
\echo 'The Syst_05 of the same OA (the decisions of a control run; the empty root before any run):'
SELECT string_agg(line, E'\n' ORDER BY n)
FROM regexp_split_to_table(inami.syst05_document(:year, :'oa')::text, E'\n') WITH ORDINALITY AS l(line, n)
WHERE n <= 10;
\set file :samples '/syst01-written.xml'
\o :file
SELECT inami.syst01_document(:year, :'oa');
\o
\echo 'Validated with xmllint against xsd/syst01.xsd:'
\! xmllint --noout --schema "$INAMI_WORK/xsd/syst01.xsd" "$SAMPLES/syst01-written.xml"
