------------------------------------------------------------------------------------------
-- Data exchanges, writing: syst01_document, syst05_document, pro01_document, pro04_document
------------------------------------------------------------------------------------------

-- Each returns one document of the exchange formats as xml, valid against xsd/<kind>.xsd: households
-- (or decisions) in request-number order, members in NISS order. Nothing to write gives
-- the empty root, valid too. STABLE: they read tables.

CREATE FUNCTION inami.syst01_document(control_year int, oa text) RETURNS xml
    LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'inami_syst01_document';
COMMENT ON FUNCTION inami.syst01_document(int, text) IS
'Syst_01 document of one OA for one control year, from inami.syst01_household and syst01_member (valid against xsd/syst01.xsd).';

CREATE FUNCTION inami.syst05_document(control_year int, oa text) RETURNS xml
    LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'inami_syst05_document';
COMMENT ON FUNCTION inami.syst05_document(int, text) IS
'Syst_05 feedback document of one OA (inami.control_decision.oa, the OA that received the incomes) for one control year (valid against xsd/syst05.xsd).';

CREATE FUNCTION inami.pro01_document(year int, oa text) RETURNS xml
    LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'inami_pro01_document';
COMMENT ON FUNCTION inami.pro01_document(int, text) IS
'Pro_01 document of one OA for one year, from inami.pro01_household and pro01_member (valid against xsd/pro01.xsd).';

CREATE FUNCTION inami.pro04_document(year int, oa text) RETURNS xml
    LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'inami_pro04_document';
COMMENT ON FUNCTION inami.pro04_document(int, text) IS
'Pro_04 document for one year: the codes of inami.proactive_decision whose request number starts with oa (the OA that sent the household in Pro_01); shipment = the latest Pro_03 shipment loaded for the year, 1 if none (valid against xsd/pro04.xsd).';
