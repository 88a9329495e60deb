-- The fixture of the writers' TAP tests (250_writers_xsd.pl, 260_round_trip.pl): OA 300
-- households of 2024 with valid NISS, one of OA 306 whose feedback OA 300 sends, and 400
-- generated households of OA 500 (their NISS are 11 digits without valid check digits:
-- for the schemas only, not for loading).
INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES
	('Syst01', 2024, '300', 'fixture', 3), ('Pro01', 2024, '300', 'fixture', 2),
	('Syst01', 2024, '500', 'fixture', 400),
	('Pro03', 2024, '300', 'fixture', 1);
INSERT INTO inami.syst01_household VALUES
	(2024, '300202485073003328', '300', '85073003328', 1),
	(2024, '300202465112420037', '300', '65112420037', 1),
	(2024, '306202490010100123', '306', '90010100123', 1);
INSERT INTO inami.syst01_member VALUES
	(2024, '300202485073003328', '87021512307'), (2024, '300202485073003328', '85073003328'),
	(2024, '300202485073003328', '15070701175'), (2024, '300202485073003328', '12030104533'),
	(2024, '300202465112420037', '65112420037'), (2024, '306202490010100123', '90010100123');
-- 400 more households, and a decision for each (the eight reasons in turn): longer documents
INSERT INTO inami.syst01_household
SELECT 2024, '5002024' || lpad(i::text, 11, '0'), '500', lpad(i::text, 11, '0'), 3
FROM generate_series(1, 400) i;
INSERT INTO inami.syst01_member
SELECT 2024, '5002024' || lpad(i::text, 11, '0'), lpad((i + k)::text, 11, '0')
FROM generate_series(1, 400) i, generate_series(0, 2) k;
INSERT INTO inami.control_run (kind, year) VALUES ('systematic_control', 2024), ('proactive_flow', 2024);
INSERT INTO inami.control_decision VALUES
	(2024, '300202485073003328', '300', 'STOPFAM', '2024-09-30', 1),
	(2024, '300202465112420037', '300', 'KEEPSYST', '2025-12-31', 1),
	(2024, '306202490010100123', '300', 'STOPOA', '2024-12-31', 1);
INSERT INTO inami.control_decision
SELECT 2024, '5002024' || lpad(i::text, 11, '0'), '500',
       (ARRAY['KEEPSYST', 'STOPSYST', 'STOPFAM', 'STOPOA', 'STOPDEATH', 'STOPFISC', 'KEEPADV', 'KEEPDSH'])[1 + i % 8],
       DATE '2024-12-31' + (i % 400), 1
FROM generate_series(1, 400) i;
INSERT INTO inami.pro01_household VALUES
	(2024, '300202478051032182', '300', '78051032182', 2),
	(2024, '300202465112420037', '300', '65112420037', 2);
INSERT INTO inami.pro01_member VALUES
	(2024, '300202478051032182', '90010100123'), (2024, '300202478051032182', '78051032182'),
	(2024, '300202465112420037', '65112420037');
INSERT INTO inami.proactive_decision VALUES
	(2024, '300202478051032182', 'OK', 2), (2024, '300202465112420037', 'ONHOLD', 2);
INSERT INTO inami.pro03_person VALUES (2024, 2, '90010100123', 2022, '00', 4);
