------------------------------------------------------------------------------------------
-- Data exchanges: the tables the loaders fill (Syst_01, Syst_04, Pro_01, Pro_03)
------------------------------------------------------------------------------------------

-- What the loaders fill and the control runs read. Every loaded row keeps the file it came
-- from (inami.flow_file); deleting a file's row deletes what it loaded.

CREATE TABLE inami.flow_file (
    file_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('Syst01', 'Syst04', 'Syst05', 'Pro01', 'Pro03', 'Pro04')),
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    oa text CHECK (inami.is_digits(oa, 3)),
    income_year int CHECK (income_year BETWEEN 1990 AND 2200),
    shipment int CHECK (shipment BETWEEN 1 AND 9),
    source_name text NOT NULL CHECK (btrim(source_name) <> ''),
    loaded_at timestamptz NOT NULL DEFAULT now(),
    loaded_by name NOT NULL DEFAULT current_user,
    record_count bigint NOT NULL CHECK (record_count >= 0)
);
COMMENT ON TABLE inami.flow_file IS
'One row per exchange file loaded: its kind (root element), year, OA, income year, shipment, where it came from and when.';
COMMENT ON COLUMN inami.flow_file.file_id IS 'Identifies the load; the loaded rows point to it.';
COMMENT ON COLUMN inami.flow_file.kind IS 'Root element of the document: Syst01, Syst04, Syst05, Pro01, Pro03 or Pro04.';
COMMENT ON COLUMN inami.flow_file.year IS 'controlYear (Syst) or year (Pro) of the document.';
COMMENT ON COLUMN inami.flow_file.oa IS 'OA code of the document, when it carries one (Syst01, Syst05, Pro01).';
COMMENT ON COLUMN inami.flow_file.income_year IS 'incomeYear of the document (Syst04, Pro03).';
COMMENT ON COLUMN inami.flow_file.shipment IS 'Shipment number (Syst04, Pro03, Pro04): 1 in August, 2 in October.';
COMMENT ON COLUMN inami.flow_file.source_name IS 'Server path given to load_flow_file, or ''load_flow'' for a document given as text.';
COMMENT ON COLUMN inami.flow_file.loaded_at IS 'When the load committed its transaction (transaction start).';
COMMENT ON COLUMN inami.flow_file.loaded_by IS 'Role that loaded the file.';
COMMENT ON COLUMN inami.flow_file.record_count IS 'Households (Syst01, Syst04, Pro01), feedbacks, persons (Pro03) or results (Pro04) loaded.';

-- Syst_01 (OA -> SCA): households under systematic control, with every member.
CREATE TABLE inami.syst01_household (
    control_year int NOT NULL CHECK (control_year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    oa text NOT NULL CHECK (inami.is_digits(oa, 3)),
    requester_niss text NOT NULL CHECK (inami.is_digits(requester_niss, 11)),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (control_year, request_number)
);
COMMENT ON TABLE inami.syst01_household IS
'Syst_01: a household whose IM rests on a DSH, sent for the systematic control of control_year.';
COMMENT ON COLUMN inami.syst01_household.control_year IS 'Year of the control (controlYear).';
COMMENT ON COLUMN inami.syst01_household.request_number IS 'OA (3) + year of transmission (4) + requester NISS (11); never changes across Syst_01/04/05.';
COMMENT ON COLUMN inami.syst01_household.oa IS 'OA that sent the household.';
COMMENT ON COLUMN inami.syst01_household.requester_niss IS 'NISS of the requester (also listed among the members).';
COMMENT ON COLUMN inami.syst01_household.file_id IS 'The file it was loaded from.';

CREATE TABLE inami.syst01_member (
    control_year int NOT NULL,
    request_number text NOT NULL,
    niss text NOT NULL CHECK (inami.is_digits(niss, 11)),
    PRIMARY KEY (control_year, request_number, niss),
    FOREIGN KEY (control_year, request_number) REFERENCES inami.syst01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.syst01_member IS 'Syst_01: every member of a household, the requester too.';
COMMENT ON COLUMN inami.syst01_member.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.syst01_member.request_number IS 'The household.';
COMMENT ON COLUMN inami.syst01_member.niss IS 'NISS of the member.';

-- Syst_04 (SCA -> OA): incomes per household and member, in one or two shipments.
CREATE TABLE inami.syst04_household (
    control_year int NOT NULL CHECK (control_year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    shipment int NOT NULL CHECK (shipment BETWEEN 1 AND 9),
    income_year int NOT NULL CHECK (income_year BETWEEN 1990 AND 2200),
    requester_niss text NOT NULL CHECK (inami.is_digits(requester_niss, 11)),
    household_total numeric CHECK (household_total = round(household_total, 2)),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (control_year, request_number, shipment)
);
COMMENT ON TABLE inami.syst04_household IS
'Syst_04: the answer for one household in one shipment. A household may be answered in shipment 1 and again in shipment 2; inami.syst04_answer says which counts.';
COMMENT ON COLUMN inami.syst04_household.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.syst04_household.request_number IS 'The household, as in Syst_01.';
COMMENT ON COLUMN inami.syst04_household.shipment IS 'Shipment number: 1 (August), 2 (October).';
COMMENT ON COLUMN inami.syst04_household.income_year IS 'Income year of the incomes (control year - 2).';
COMMENT ON COLUMN inami.syst04_household.requester_niss IS 'NISS of the requester.';
COMMENT ON COLUMN inami.syst04_household.household_total IS 'HouseholdTotal as sent by the SCA: only when every member is known; NULL otherwise.';
COMMENT ON COLUMN inami.syst04_household.file_id IS 'The file it was loaded from.';

-- R3: the IPCAL items of one answer as two arrays (codes of 4 digits, amounts with at most
-- two decimals, as many of each, no NULL), checked in C: the CHECK of syst04_member.
CREATE FUNCTION inami.ipcal_items_valid(codes text[], amounts numeric[]) RETURNS boolean
AS 'MODULE_PATHNAME', 'inami_ipcal_items_valid'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.ipcal_items_valid(text[], numeric[]) IS
'R3: true when codes and amounts are IPCAL items: one-dimensional, as many codes as amounts, no NULL, codes of 4 digits, finite amounts with at most two decimals.';

CREATE FUNCTION inami.ipcal_items_income(codes text[], amounts numeric[], tax_year int) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_ipcal_items_income'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.ipcal_items_income(text[], numeric[], int) IS
'R3: a member''s income from the IPCAL items of its row (inami.syst04_member, inami.pro03_person): what inami.ipcal_income gives over the same items, 0.00 without any. A code missing from inami.ipcal_rule for the tax year is an error.';

-- A member's IPCAL items live in its row, in document order: they are part of its answer
-- (loaded, read and deleted with it), and a row per item cost a foreign-key check and an
-- index entry per item, most of what loading a Syst_04 cost.
CREATE TABLE inami.syst04_member (
    control_year int NOT NULL,
    request_number text NOT NULL,
    shipment int NOT NULL,
    niss text NOT NULL CHECK (inami.is_digits(niss, 11)),
    return_code text NOT NULL CHECK (inami.is_digits(return_code, 2)),
    tax_sheet text CHECK (btrim(tax_sheet) <> ''),
    cadastral_income numeric CHECK (cadastral_income = round(cadastral_income, 2)),
    personal_total numeric CHECK (personal_total = round(personal_total, 2)),
    ipcal_code text[] NOT NULL DEFAULT '{}',
    ipcal_amount numeric[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (control_year, request_number, shipment, niss),
    FOREIGN KEY (control_year, request_number, shipment) REFERENCES inami.syst04_household ON DELETE CASCADE,
    CHECK (inami.ipcal_items_valid(ipcal_code, ipcal_amount)),
    -- E 4.2: IPCAL codes follow return code 00 only
    CHECK (return_code = '00' OR cardinality(ipcal_code) = 0)
);
COMMENT ON TABLE inami.syst04_member IS 'Syst_04: one member of an answered household, with its IPCAL items (inami.syst04_ipcal shows one row per item).';
COMMENT ON COLUMN inami.syst04_member.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.syst04_member.request_number IS 'The household.';
COMMENT ON COLUMN inami.syst04_member.shipment IS 'Shipment number.';
COMMENT ON COLUMN inami.syst04_member.niss IS 'NISS of the member.';
COMMENT ON COLUMN inami.syst04_member.return_code IS 'Tax administration return code: 00 income known (IPCAL items follow); any other, not known (03, 04, 10, 11: not yet processed).';
COMMENT ON COLUMN inami.syst04_member.tax_sheet IS 'Tax sheet number, when sent.';
COMMENT ON COLUMN inami.syst04_member.cadastral_income IS 'Cadastral income of the own home, when sent.';
COMMENT ON COLUMN inami.syst04_member.personal_total IS 'Personal total as sent, when sent.';
COMMENT ON COLUMN inami.syst04_member.ipcal_code IS 'IPCAL codes of the member''s items, in document order (see inami.ipcal_rule); empty without items.';
COMMENT ON COLUMN inami.syst04_member.ipcal_amount IS 'Amounts in EUR of the same items, possibly negative.';

CREATE VIEW inami.syst04_ipcal AS
SELECT m.control_year, m.request_number, m.shipment, m.niss, u.item_no::int AS item_no, u.code, u.amount
FROM inami.syst04_member m
CROSS JOIN LATERAL unnest(m.ipcal_code, m.ipcal_amount) WITH ORDINALITY AS u(code, amount, item_no);
COMMENT ON VIEW inami.syst04_ipcal IS 'Syst_04: one row per IPCAL item of a member with return code 00, in document order (item_no 1, 2, ...), from inami.syst04_member.';

CREATE VIEW inami.syst04_answer AS
SELECT DISTINCT ON (control_year, request_number) *
FROM inami.syst04_household
ORDER BY control_year, request_number, shipment DESC;
COMMENT ON VIEW inami.syst04_answer IS
'Syst_04: the latest answer of each household (shipment 2 answers what shipment 1 left open): its income year and HouseholdTotal. For each member, the latest answer that lists the member counts (inami.systematic_members), so an October shipment that repeats only the members August left open completes the August answer.';

-- E 2.3: the CIN filter sends a Syst_04 answer to the requester's current OA, which may not
-- be the OA that listed the household in its Syst_01.
CREATE VIEW inami.syst04_unlisted AS
SELECT a.*
FROM inami.syst04_answer a
WHERE NOT EXISTS (SELECT FROM inami.syst01_household s
                  WHERE s.control_year = a.control_year AND s.request_number = a.request_number);
COMMENT ON VIEW inami.syst04_unlisted IS
'Syst_04: the latest answer of each household that no loaded Syst_01 lists: another OA sent the request, and the CIN filter sent the answer here, the requester''s OA now (Circ. O.A. 2024/165, 2.3). The control decides them once they are listed: inami.adopt_unlisted_households.';

-- E 2.3, 5.2: the OA that receives the fiscal data sends the feedback, with the same request
-- number, also for a household another OA listed: list such households as this OA's.
CREATE FUNCTION inami.adopt_unlisted_households(control_year int, oa text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    IF $2 IS NULL OR NOT inami.is_digits($2, 3) THEN
        RAISE EXCEPTION 'OA code must be 3 digits' USING ERRCODE = '22P02',
            DETAIL = format('The value given is %L.', $2),
            HINT = 'Give the code of the OA that received the Syst04, for example ''300''.';
    END IF;
    IF $1 IS NULL OR $1 NOT BETWEEN 1990 AND 2200 THEN
        RAISE EXCEPTION 'control year must be between 1990 and 2200' USING ERRCODE = '22023',
            DETAIL = format('The control year given is %s.', coalesce($1::text, 'NULL')),
            HINT = 'Give the control year of the Syst04 shipments, for example 2024.';
    END IF;
    -- Listed as in a Syst_01: the requester under the request number's NISS, to which a
    -- newer NISS in the answers is matched (E 2.4); the members of every shipment. The
    -- Syst04 file is the household's source: deleting it deletes the household again.
    WITH adopted AS (
        INSERT INTO inami.syst01_household (control_year, request_number, oa, requester_niss, file_id)
        SELECT u.control_year, u.request_number, $2, substr(u.request_number, 8), u.file_id
        FROM inami.syst04_unlisted u
        WHERE u.control_year = $1
        -- listed meanwhile by a Syst_01 load or another adoption: left as it is
        ON CONFLICT ON CONSTRAINT syst01_household_pkey DO NOTHING
        RETURNING syst01_household.request_number
    ), members AS (
        INSERT INTO inami.syst01_member (control_year, request_number, niss)
        SELECT DISTINCT $1, m.request_number,
               CASE WHEN m.niss = h.requester_niss THEN substr(m.request_number, 8) ELSE m.niss END
        FROM adopted a
        JOIN inami.syst04_member m ON m.control_year = $1 AND m.request_number = a.request_number
        JOIN inami.syst04_household h
          ON h.control_year = m.control_year AND h.request_number = m.request_number AND h.shipment = m.shipment
        RETURNING 1
    )
    SELECT count(*) INTO n FROM adopted;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION inami.adopt_unlisted_households(int, text) IS
'Circ. O.A. 2024/165, 2.3 and 5.2: the OA that receives the fiscal data sends the feedback, with the same request number, also for households another OA listed. Lists every household of inami.syst04_unlisted of control_year as one of oa''s (members: those of its Syst_04 answers), so that the control decides it and syst05_document(control_year, oa) reports it. Returns how many. Deleting the Syst04 file deletes them again.';

-- Pro_01 (OA -> SCA): households with at least one member without IM on 1 January.
CREATE TABLE inami.pro01_household (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    oa text NOT NULL CHECK (inami.is_digits(oa, 3)),
    requester_niss text NOT NULL CHECK (inami.is_digits(requester_niss, 11)),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (year, request_number)
);
COMMENT ON TABLE inami.pro01_household IS 'Pro_01: a household of the proactive flow of year; the requester is its eldest member.';
COMMENT ON COLUMN inami.pro01_household.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.pro01_household.request_number IS 'OA (3) + year (4) + requester NISS (11).';
COMMENT ON COLUMN inami.pro01_household.oa IS 'OA that sent the household.';
COMMENT ON COLUMN inami.pro01_household.requester_niss IS 'NISS of the requester (the eldest member).';
COMMENT ON COLUMN inami.pro01_household.file_id IS 'The file it was loaded from.';

CREATE TABLE inami.pro01_member (
    year int NOT NULL,
    request_number text NOT NULL,
    niss text NOT NULL CHECK (inami.is_digits(niss, 11)),
    PRIMARY KEY (year, request_number, niss),
    FOREIGN KEY (year, request_number) REFERENCES inami.pro01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.pro01_member IS 'Pro_01: every member of a household, the requester too.';
COMMENT ON COLUMN inami.pro01_member.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.pro01_member.request_number IS 'The household.';
COMMENT ON COLUMN inami.pro01_member.niss IS 'NISS of the member.';

-- Pro_03 (tax administration -> SCA): incomes per person.
CREATE TABLE inami.pro03_person (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    shipment int NOT NULL CHECK (shipment BETWEEN 1 AND 9),
    niss text NOT NULL CHECK (inami.is_digits(niss, 11)),
    income_year int NOT NULL CHECK (income_year BETWEEN 1990 AND 2200),
    return_code text NOT NULL CHECK (inami.is_digits(return_code, 2)),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    ipcal_code text[] NOT NULL DEFAULT '{}',
    ipcal_amount numeric[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (year, shipment, niss),
    -- the person's IPCAL items, in its row as in inami.syst04_member
    CHECK (inami.ipcal_items_valid(ipcal_code, ipcal_amount)),
    CHECK (return_code = '00' OR cardinality(ipcal_code) = 0)
);
COMMENT ON TABLE inami.pro03_person IS 'Pro_03: the income answer for one person in one shipment, with its IPCAL items (inami.pro03_ipcal shows one row per item); the latest shipment of a person counts (inami.pro03_answer).';
COMMENT ON COLUMN inami.pro03_person.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.pro03_person.shipment IS 'Shipment number.';
COMMENT ON COLUMN inami.pro03_person.niss IS 'NISS of the person.';
COMMENT ON COLUMN inami.pro03_person.income_year IS 'Income year (year - 2).';
COMMENT ON COLUMN inami.pro03_person.return_code IS 'Tax administration return code, as in Syst_04.';
COMMENT ON COLUMN inami.pro03_person.file_id IS 'The file it was loaded from.';
COMMENT ON COLUMN inami.pro03_person.ipcal_code IS 'IPCAL codes of the person''s items, in document order; empty without items.';
COMMENT ON COLUMN inami.pro03_person.ipcal_amount IS 'Amounts in EUR of the same items, possibly negative.';

CREATE VIEW inami.pro03_ipcal AS
SELECT p.year, p.shipment, p.niss, u.item_no::int AS item_no, u.code, u.amount
FROM inami.pro03_person p
CROSS JOIN LATERAL unnest(p.ipcal_code, p.ipcal_amount) WITH ORDINALITY AS u(code, amount, item_no);
COMMENT ON VIEW inami.pro03_ipcal IS 'Pro_03: one row per IPCAL item of a person with return code 00, in document order, from inami.pro03_person.';

CREATE VIEW inami.pro03_answer AS
SELECT DISTINCT ON (year, niss) *
FROM inami.pro03_person
ORDER BY year, niss, shipment DESC;
COMMENT ON VIEW inami.pro03_answer IS 'Pro_03: the answer that counts for each person: the one of its latest shipment.';

-- One call per statement: each call updates pg_extension.
DO $$
DECLARE
    t regclass;
BEGIN
    FOREACH t IN ARRAY ARRAY['inami.flow_file', 'inami.flow_file_file_id_seq',
                             'inami.syst01_household', 'inami.syst01_member',
                             'inami.syst04_household', 'inami.syst04_member',
                             'inami.pro01_household', 'inami.pro01_member',
                             'inami.pro03_person']::regclass[]
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(t, '');
    END LOOP;
END;
$$;
