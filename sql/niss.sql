-- R9: the NISS, and R4's request number built on it.
\set VERBOSITY default
SELECT plan(74);

-- The rules' example.
SELECT ok(inami.niss_is_valid('85073003328'), '85073003328 is valid');
SELECT is(inami.niss_birth_date('85073003328'), '1985-07-30'::date, '85073003328 is born on 30 July 1985');

-- Births from 2000 on: the 2 prefix before the modulo.
SELECT ok(inami.niss_is_valid('05010100113'), 'born 1 Jan 2005 (2 prefix)');
SELECT is(inami.niss_birth_date('05010100113'), '2005-01-01'::date, '05010100113 is born on 1 Jan 2005');
SELECT is(inami.niss_birth_date('05010200279'), '2005-01-02'::date, '05010200279 is born on 2 Jan 2005');
SELECT is(inami.niss_birth_date('10061512396'), '2010-06-15'::date, '10061512396 is born on 15 June 2010');
SELECT is(inami.niss_birth_date('24010100124'), '2024-01-01'::date, '24010100124 is born on 1 Jan 2024');
SELECT is(inami.niss_birth_date('99123199742'), '1999-12-31'::date, '99123199742 is born on 31 Dec 1999 (no prefix)');

-- The century follows the check digits, and leap years follow the century.
SELECT is(inami.niss_birth_date('00022900145'), '2000-02-29'::date, '29 Feb 2000 exists (2 prefix)');
SELECT ok(NOT inami.niss_is_valid('00022900116'), '29 Feb 1900 does not exist (no prefix)');
SELECT is(inami.niss_birth_date('24022900362'), '2024-02-29'::date, '29 Feb 2024 exists');
SELECT ok(NOT inami.niss_is_valid('23022900341'), '29 Feb 2023 does not exist');
SELECT ok(NOT inami.niss_is_valid('85023000125'), '30 February does not exist');

-- Bis numbers: month + 20 (sex unknown) or + 40 (sex known).
SELECT ok(inami.niss_is_valid('85273003371'), 'bis number, month + 20');
SELECT is(inami.niss_birth_date('85273003371'), '1985-07-30'::date, 'bis + 20 gives the birth month back');
SELECT is(inami.niss_birth_date('85473003416'), '1985-07-30'::date, 'bis + 40 gives the birth month back');
SELECT is(inami.niss_birth_date('00200001161'), NULL, 'bis number with month 00 + 20: birth date unknown');
SELECT ok(NOT inami.niss_is_valid('85133200142'), 'month 13 is not a month');

-- Month or day 00: valid, birth date unknown.
SELECT ok(inami.niss_is_valid('00000012371'), 'month and day 00 are valid');
SELECT is(inami.niss_birth_date('00000012371'), NULL, 'month and day 00: birth date unknown');
SELECT ok(inami.niss_is_valid('85070004543'), 'day 00 is valid');
SELECT is(inami.niss_birth_date('85070004543'), NULL, 'day 00: birth date unknown');

-- Not a NISS.
SELECT ok(NOT inami.niss_is_valid('85073003327'), 'a wrong check digit');
SELECT ok(NOT inami.niss_is_valid('8507300332'), '10 digits');
SELECT ok(NOT inami.niss_is_valid('850730033280'), '12 digits');
SELECT ok(NOT inami.niss_is_valid('8507300332a'), 'a letter');
SELECT ok(NOT inami.niss_is_valid('85.07.30-033.28'), 'dots and dashes');
SELECT ok(NOT inami.niss_is_valid(''), 'the empty string');
SELECT ok(NOT inami.niss_is_valid(' 85073003328'), 'a leading space');
SELECT is(inami.niss_is_valid(NULL), NULL, 'NULL in, NULL out');
SELECT is(inami.niss_birth_date(NULL), NULL, 'NULL birth date for NULL');
SELECT throws_ok($$SELECT inami.niss_birth_date('85073003327')$$, '22P02', NULL, 'birth date of an invalid NISS is an error');
SELECT throws_ok($$SELECT inami.niss_birth_date('123')$$, '22P02', NULL, 'birth date of 3 digits is an error');

-- R3's under-18 rule with an unknown month or day: a birth date that settles it, when
-- every possible day gives the same answer on 1 January of the tax year.
SELECT is(inami.niss_birth_date_for_age('85073003328', 18, '2023-01-01'), '1985-07-30'::date, 'a full birth date is its own');
SELECT is(inami.niss_birth_date_for_age('05010100113', 18, '2023-01-01'), '2005-01-01'::date, 'born 1 Jan 2005: 18 on 1 Jan 2023, its own date');
SELECT is(inami.niss_birth_date_for_age('10000000441', 18, '2023-01-01'), '2010-01-01'::date, 'born in 2010, month and day 00: under 18 whatever the day');
SELECT is(inami.niss_birth_date_for_age('00000012371', 18, '2023-01-01'), '1900-01-01'::date, 'born in 1900, month and day 00: 18 or more whatever the day');
SELECT is(inami.niss_birth_date_for_age('05000000532', 18, '2023-01-01'), NULL, 'born in 2005, month and day 00: 18 on 1 Jan 2023 only if born on 1 January, so unknown');
SELECT is(inami.niss_birth_date_for_age('05010000143', 18, '2023-01-01'), NULL, 'born in January 2005, day 00: unknown');
SELECT is(inami.niss_birth_date_for_age('05020000150', 18, '2023-01-01'), '2005-02-01'::date, 'born in February 2005, day 00: under 18 on 1 Jan 2023');
SELECT is(inami.niss_birth_date_for_age('85070004543', 18, '2023-01-01'), '1985-07-01'::date, 'born in July 1985, day 00: the first day of the month');
SELECT is(inami.niss_birth_date_for_age('00200001161', 18, '2023-01-01'), '2000-01-01'::date, 'bis number, month 00 + 20: the year settles it');
SELECT is(inami.niss_birth_date_for_age(NULL, 18, '2023-01-01'), NULL, 'NULL in, NULL out');
SELECT throws_ok($$SELECT inami.niss_birth_date_for_age('85073003327', 18, '2023-01-01')$$, '22P02', NULL, 'an invalid NISS is an error');
-- The days a NISS allows as birth date.
SELECT is(inami.niss_birth_range('85073003328'), '[1985-07-30,1985-07-31)'::daterange, 'a full birth date: that day');
SELECT is(inami.niss_birth_range('85070004543'), '[1985-07-01,1985-08-01)'::daterange, 'day 00: the month');
SELECT is(inami.niss_birth_range('05000000532'), '[2005-01-01,2006-01-01)'::daterange, 'month and day 00: the year (2 prefix: 2005)');
SELECT is(inami.niss_birth_range('00200001161'), '[2000-01-01,2001-01-01)'::daterange, 'bis number, month 00 + 20: the year');
SELECT is(inami.niss_birth_range('85273003371'), '[1985-07-30,1985-07-31)'::daterange, 'bis number, month + 20: that day');
SELECT is(inami.niss_birth_range(NULL), NULL, 'NULL in, NULL out');
SELECT throws_ok($$SELECT inami.niss_birth_range('85073003327')$$, '22P02', 'NISS has wrong check digits', 'an invalid NISS is an error');
SELECT throws_ok($$SELECT inami.niss_birth_date_for_age('85073003328', -1, '2023-01-01')$$, '22023', 'age or day out of range',
                 'a negative age is an error');
SELECT throws_ok($$SELECT inami.niss_birth_date_for_age('85073003328', 18, 'infinity')$$, '22023', NULL, 'an infinite day is an error');

-- R4: the request number.
SELECT is(inami.request_number('300', 2024, '85073003328'), '300202485073003328', 'OA 300, 2024, 85073003328');
SELECT is(inami.request_number('101', 2025, '05010100113'), '101202505010100113', 'a requester born in 2005');
SELECT is(inami.request_number(NULL, 2024, '85073003328'), NULL, 'NULL OA');
SELECT is(inami.request_number('300', NULL, '85073003328'), NULL, 'NULL year');
SELECT throws_ok($$SELECT inami.request_number('300', 2024, '85073003327')$$, '22P02', NULL, 'a wrong check digit');
SELECT throws_ok($$SELECT inami.request_number('300', 2024, '8507300332')$$, '22P02', NULL, 'a NISS of 10 digits');
SELECT throws_ok($$SELECT inami.request_number('30', 2024, '85073003328')$$, '22P02', NULL, 'an OA of 2 digits');
SELECT throws_ok($$SELECT inami.request_number('3000', 2024, '85073003328')$$, '22P02', NULL, 'an OA of 4 digits');
SELECT throws_ok($$SELECT inami.request_number('30a', 2024, '85073003328')$$, '22P02', NULL, 'an OA with a letter');
SELECT throws_ok($$SELECT inami.request_number('300', 999, '85073003328')$$, '22023', NULL, 'a year of 3 digits');
SELECT throws_ok($$SELECT inami.request_number('300', 1989, '85073003328')$$, '22023',
                 'year of transmission must be between 1990 and 2200', 'a year before the exchange tables take');

-- is_digits: the CHECK of the codes and numbers kept as text.
SELECT is(inami.is_digits('85073003328', 11), true, 'is_digits: 11 digits');
SELECT is(inami.is_digits('8507300332', 11), false, 'is_digits: one digit short');
SELECT is(inami.is_digits('850730033280', 11), false, 'is_digits: one digit over');
SELECT is(inami.is_digits('8507300332x', 11), false, 'is_digits: a letter');
SELECT is(inami.is_digits(' 8507300332', 11), false, 'is_digits: a space');
SELECT is(inami.is_digits('８５０７３００３３２', 10), false, 'is_digits: full-width digits are not ASCII digits');
SELECT is(inami.is_digits('', 0), true, 'is_digits: the empty string has 0 digits');
SELECT is(inami.is_digits(NULL, 11), NULL, 'is_digits: NULL in, NULL out (a CHECK lets NULL pass)');
SELECT throws_ok($$INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES ('Syst01', 2024, '3O0', 'test', 0)$$,
                 '23514', NULL, 'a table refuses an OA code that is not 3 digits');
-- A value cut for a message is cut between characters, never inside one, and counted in
-- characters.
CREATE FUNCTION pg_temp.detail_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END;
$$;
SELECT is(pg_temp.detail_of($$SELECT inami.niss_birth_date('a' || repeat('é', 40))$$),
          'The value given is "a' || repeat('é', 31) || '" (41 characters).',
          'a long value in a message: 64 bytes at most, cut between characters');

SELECT * FROM finish();

-- The errors as a user reads them.
SELECT inami.request_number('300', 2024, '85073003327');
SELECT inami.request_number('300', 2024, '85.07.30-033.28');
SELECT inami.request_number('30', 2024, '85073003328');
SELECT inami.niss_birth_date('85023000125');
