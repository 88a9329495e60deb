------------------------------------------------------------------------------------------
-- Statistics of the proactive flow (G)
------------------------------------------------------------------------------------------

-- G (circ. 2024/250): tables 1, 2 and 3 of the statistics of the proactive flow.
CREATE FUNCTION inami.proactive_statistics(year int)
RETURNS TABLE (report_table int, category int, label text, households bigint, persons bigint)
LANGUAGE sql STABLE BEGIN ATOMIC
    WITH ok AS (
        SELECT d.request_number FROM inami.proactive_decision d WHERE d.year = $1 AND d.code = 'OK'
    ), o AS (
        SELECT p.* FROM inami.proactive_outcome p WHERE p.year = $1
    ), hh_cat AS (
        -- G 3 and 4.2: a household carries the category of its members, plus category 6 when a
        -- child with an automatic right opened it; a dependent's own advantage counts for the person only.
        SELECT DISTINCT o.request_number, o.category FROM o
        WHERE NOT (o.category = 6 AND o.dependent AND NOT o.automatic_child)
    ), labels(category, label) AS (
        VALUES (1, 'Modification composition de ménage'), (2, 'Information à l''O.A.'),
               (3, 'Dépassement plafond DSH'), (4, 'Non-réponse de l''assuré'),
               (5, 'Droit DSH'), (6, 'Droit automatique')
    )
    SELECT 1, NULL::int, 'OK households (Pro_04)', (SELECT count(*) FROM ok),
           (SELECT count(*) FROM inami.pro01_member m JOIN ok USING (request_number) WHERE m.year = $1)
    UNION ALL
    SELECT 1, NULL, 'households actually contacted',
           (SELECT count(DISTINCT o.request_number) FROM o WHERE o.contacted),
           (SELECT count(*) FROM inami.pro01_member m WHERE m.year = $1
              AND m.request_number IN (SELECT o2.request_number FROM o o2 WHERE o2.contacted))
    UNION ALL
    SELECT 1, NULL, 'of which opened the right (categories 5 and 6)',
           (SELECT count(DISTINCT h.request_number) FROM hh_cat h WHERE h.category IN (5, 6)
              AND h.request_number IN (SELECT o2.request_number FROM o o2 WHERE o2.contacted)),
           (SELECT count(*) FROM o WHERE o.category IN (5, 6)
              AND o.request_number IN (SELECT o2.request_number FROM o o2 WHERE o2.contacted))
    UNION ALL
    SELECT 2, l.category, l.label, (SELECT count(*) FROM hh_cat h WHERE h.category = l.category), NULL
    FROM labels l
    UNION ALL
    SELECT 3, l.category, l.label, NULL, (SELECT count(*) FROM o WHERE o.category = l.category)
    FROM labels l
    ORDER BY 1, 2 NULLS FIRST, 3;
END;
COMMENT ON FUNCTION inami.proactive_statistics(int) IS
'G (circ. O.A. 2024/250): the yearly report of the proactive flow from inami.proactive_outcome. Table 1: OK households and their persons, households actually contacted and their persons, and of them those that opened the right. Table 2: households per category (a household with a child with an automatic right may count in two; a dependent''s advantage does not make the household category 6). Table 3: persons per category (each person in exactly one). G 3 names table 2 for households and table 3 for persons (G 4.1 says the reverse once; 3 is followed).';
