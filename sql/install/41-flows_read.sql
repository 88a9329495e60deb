------------------------------------------------------------------------------------------
-- Data exchanges, reading: the streamed reader, loaders load_flow / load_flow_file,
-- read_* functions, and the received Syst_05 and Pro_04
------------------------------------------------------------------------------------------

-- A shipment loads once: a second load of the same kind, year, OA and shipment is refused
-- (23505, with the DELETE that replaces it), also when two sessions load it at once.
CREATE UNIQUE INDEX flow_file_one_shipment ON inami.flow_file
    (kind, year, coalesce(oa, ''), coalesce(shipment, 0));

-- Syst_05 (OA -> SCA) as received: the feedback of an OA on a Syst_01 household.
CREATE TABLE inami.syst05_feedback_received (
    control_year int NOT NULL CHECK (control_year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    oa text NOT NULL CHECK (inami.is_digits(oa, 3)),
    reason text NOT NULL CHECK (reason IN ('KEEPSYST', 'STOPSYST', 'STOPFAM', 'STOPOA', 'STOPDEATH',
                                           'STOPFISC', 'KEEPADV', 'KEEPDSH')),
    right_end date,
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (control_year, request_number),
    FOREIGN KEY (control_year, request_number) REFERENCES inami.syst01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.syst05_feedback_received IS
'Syst_05 as loaded by load_flow / load_flow_file: the feedback sent for a Syst_01 household (one per household and control year).';
COMMENT ON COLUMN inami.syst05_feedback_received.control_year IS 'Year of the control (controlYear).';
COMMENT ON COLUMN inami.syst05_feedback_received.request_number IS 'The household, as in Syst_01.';
COMMENT ON COLUMN inami.syst05_feedback_received.oa IS 'OA that sent the feedback.';
COMMENT ON COLUMN inami.syst05_feedback_received.reason IS 'Reason code: KEEPSYST, STOPSYST, STOPFAM, STOPOA, STOPDEATH, STOPFISC, KEEPADV or KEEPDSH.';
COMMENT ON COLUMN inami.syst05_feedback_received.right_end IS 'rightEnd: last day of the right, when sent.';
COMMENT ON COLUMN inami.syst05_feedback_received.file_id IS 'The file it was loaded from.';

-- Pro_04 (SCA -> OA) as received: the code of a Pro_01 household.
CREATE TABLE inami.pro04_result_received (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    shipment int NOT NULL CHECK (shipment BETWEEN 1 AND 9),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    code text NOT NULL CHECK (code IN ('OK', 'NOK', 'ONHOLD')),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (year, shipment, request_number),
    FOREIGN KEY (year, request_number) REFERENCES inami.pro01_household ON DELETE CASCADE
);
CREATE INDEX ON inami.pro04_result_received (year, request_number);
COMMENT ON TABLE inami.pro04_result_received IS
'Pro_04 as loaded by load_flow / load_flow_file: the result for a Pro_01 household in one shipment; the latest shipment counts.';
COMMENT ON COLUMN inami.pro04_result_received.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.pro04_result_received.shipment IS 'Shipment number.';
COMMENT ON COLUMN inami.pro04_result_received.request_number IS 'The household, as in Pro_01.';
COMMENT ON COLUMN inami.pro04_result_received.code IS 'OK (right granted), NOK (refused) or ONHOLD (incomes not all known).';
COMMENT ON COLUMN inami.pro04_result_received.file_id IS 'The file it was loaded from.';

SELECT pg_catalog.pg_extension_config_dump('inami.syst05_feedback_received', '');
SELECT pg_catalog.pg_extension_config_dump('inami.pro04_result_received', '');

CREATE FUNCTION inami.load_flow(doc text) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_load_flow'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION inami.load_flow(text) IS
'Loads one exchange document (Syst01, Syst04, Syst05, Pro01, Pro03 or Pro04: the root element says which) into the inami tables, streamed and checked on the way; returns the households, persons or results loaded. All or nothing; a shipment already loaded is refused.';

CREATE FUNCTION inami.load_flow_file(path text) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_load_flow_file'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION inami.load_flow_file(text) IS
'load_flow from a file on the server, read in chunks (any size, memory flat). Superusers and members of pg_read_server_files only.';
REVOKE EXECUTE ON FUNCTION inami.load_flow_file(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION inami.load_flow_file(text) TO pg_read_server_files;

CREATE FUNCTION inami.read_syst01(doc text,
    OUT control_year int, OUT oa text, OUT request_number text, OUT requester_niss text,
    OUT niss text, OUT line int) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_syst01'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_syst01(text) IS
'Reads a Syst01 document without loading it: one row per member (line: where the member is), checked as load_flow does, except against the tables.';

CREATE FUNCTION inami.read_pro01(doc text,
    OUT year int, OUT oa text, OUT request_number text, OUT requester_niss text,
    OUT niss text, OUT line int) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_pro01'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_pro01(text) IS
'Reads a Pro01 document without loading it: one row per member.';

CREATE FUNCTION inami.read_syst04(doc text,
    OUT control_year int, OUT income_year int, OUT shipment int, OUT request_number text,
    OUT requester_niss text, OUT household_total numeric, OUT niss text, OUT return_code text,
    OUT tax_sheet text, OUT cadastral_income numeric, OUT personal_total numeric,
    OUT item_no int, OUT ipcal_code text, OUT ipcal_amount numeric, OUT line int) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_syst04'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_syst04(text) IS
'Reads a Syst04 document without loading it: one row per member and IPCAL item (a member without items: one row, item columns NULL).';

CREATE FUNCTION inami.read_pro03(doc text,
    OUT year int, OUT income_year int, OUT shipment int, OUT niss text, OUT return_code text,
    OUT item_no int, OUT ipcal_code text, OUT ipcal_amount numeric, OUT line int) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_pro03'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_pro03(text) IS
'Reads a Pro03 document without loading it: one row per person and IPCAL item.';

CREATE FUNCTION inami.read_syst05(doc text,
    OUT control_year int, OUT oa text, OUT request_number text, OUT reason text,
    OUT right_end date, OUT line int) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_syst05'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_syst05(text) IS
'Reads a Syst05 document without loading it: one row per feedback.';

CREATE FUNCTION inami.read_pro04(doc text,
    OUT year int, OUT shipment int, OUT request_number text, OUT code text, OUT line int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_pro04'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_pro04(text) IS
'Reads a Pro04 document without loading it: one row per result.';
