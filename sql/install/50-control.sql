------------------------------------------------------------------------------------------
-- Control runs, their data: run log, decisions (Syst_05, Pro_04), events, proactive outcomes
------------------------------------------------------------------------------------------

-- What the control runs write and the writers (syst05_document, pro04_document) read.

CREATE TABLE inami.control_run (
    run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('systematic_control', 'proactive_flow', 'purge')),
    year int CHECK (year BETWEEN 1990 AND 2200),
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    ended_at timestamptz CHECK (ended_at >= started_at),
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    counts jsonb,
    error_sqlstate text CHECK (error_sqlstate ~ '^[0-9A-Z]{5}$'),
    error_message text,
    cron_jobid bigint,
    cron_runid bigint,
    CHECK ((status = 'running') = (ended_at IS NULL)),
    CHECK ((status = 'failed') = (error_sqlstate IS NOT NULL))
);
COMMENT ON TABLE inami.control_run IS
'The run log: one row per control run, written before its work starts and completed when it ends, failures included.';
COMMENT ON COLUMN inami.control_run.run_id IS 'Identifies the run; decisions point to the run that made them.';
COMMENT ON COLUMN inami.control_run.kind IS 'systematic_control, proactive_flow or purge.';
COMMENT ON COLUMN inami.control_run.year IS 'Control year (systematic), year (proactive); NULL for a purge.';
COMMENT ON COLUMN inami.control_run.started_at IS 'When the run started.';
COMMENT ON COLUMN inami.control_run.ended_at IS 'When the run ended; NULL while running.';
COMMENT ON COLUMN inami.control_run.status IS 'running, succeeded, failed, or interrupted: the session ended while the run was running (a server crash, a terminated backend), as the next run of the same kind and year found.';
COMMENT ON COLUMN inami.control_run.counts IS 'Counts per reason or code (or per table purged), as a JSON object.';
COMMENT ON COLUMN inami.control_run.error_sqlstate IS 'SQLSTATE of the error that failed the run.';
COMMENT ON COLUMN inami.control_run.error_message IS 'Message (with detail and hint) of the error that failed the run; for an interrupted run, which run found it and when.';
COMMENT ON COLUMN inami.control_run.cron_jobid IS 'The pg_cron job that started the run (cron.job_run_details.jobid); NULL when not started by pg_cron.';
COMMENT ON COLUMN inami.control_run.cron_runid IS 'The pg_cron run of that job (cron.job_run_details.runid); NULL when not started by pg_cron.';

-- Syst_05: the decision for every Syst_01 household of a control year.
CREATE TABLE inami.control_decision (
    control_year int NOT NULL CHECK (control_year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    oa text NOT NULL CHECK (inami.is_digits(oa, 3)),
    reason text NOT NULL CHECK (reason IN ('KEEPSYST', 'STOPSYST', 'STOPFAM', 'STOPOA', 'STOPDEATH',
                                           'STOPFISC', 'KEEPADV', 'KEEPDSH')),
    right_end date,
    run_id bigint NOT NULL REFERENCES inami.control_run,
    PRIMARY KEY (control_year, request_number),
    FOREIGN KEY (control_year, request_number) REFERENCES inami.syst01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.control_decision IS
'Syst_05: the decision on one Syst_01 household (R4): the reason reported and the end of the right; what it was made from is kept beside it.';
COMMENT ON COLUMN inami.control_decision.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.control_decision.request_number IS 'The household, as in Syst_01.';
COMMENT ON COLUMN inami.control_decision.oa IS 'OA that sends the feedback.';
COMMENT ON COLUMN inami.control_decision.reason IS 'Reason code: KEEPSYST, STOPSYST, STOPFAM, STOPOA, STOPDEATH, STOPFISC, KEEPADV or KEEPDSH.';
COMMENT ON COLUMN inami.control_decision.right_end IS 'Last day of the right (rightEnd of Syst_05).';
COMMENT ON COLUMN inami.control_decision.run_id IS 'The run that made the decision as it stands: a later run that reaches the same decision leaves the row alone.';

-- Pro_04: the code of every Pro_01 household of a year.
CREATE TABLE inami.proactive_decision (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    code text NOT NULL CHECK (code IN ('OK', 'NOK', 'ONHOLD')),
    run_id bigint NOT NULL REFERENCES inami.control_run,
    PRIMARY KEY (year, request_number),
    FOREIGN KEY (year, request_number) REFERENCES inami.pro01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.proactive_decision IS
'Pro_04: the code of one Pro_01 household (R5): OK (income under the ceiling), NOK, or ONHOLD (income unknown).';
COMMENT ON COLUMN inami.proactive_decision.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.proactive_decision.request_number IS 'The household, as in Pro_01.';
COMMENT ON COLUMN inami.proactive_decision.code IS 'OK, NOK or ONHOLD.';
COMMENT ON COLUMN inami.proactive_decision.run_id IS 'The run that computed the code.';

DO $$
DECLARE
    t regclass;
BEGIN
    FOREACH t IN ARRAY ARRAY['inami.control_run', 'inami.control_run_run_id_seq',
                             'inami.control_decision', 'inami.proactive_decision']::regclass[]
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(t, '');
    END LOOP;
END;
$$;

-- What a decision was made from (R4, R5): kept beside each decision so that
-- inami.explain_decision can answer "why". Nullable: rows written by other means (tests of
-- the writers, older runs) stay valid.
ALTER TABLE inami.control_decision
    ADD COLUMN household_size int CHECK (household_size >= 1),
    ADD COLUMN income_year int CHECK (income_year BETWEEN 1990 AND 2200),
    ADD COLUMN shipment int CHECK (shipment BETWEEN 1 AND 9),
    ADD COLUMN sent_total numeric CHECK (sent_total = round(sent_total, 2)),
    ADD COLUMN household_total numeric CHECK (household_total >= 0 AND household_total = round(household_total, 2)),
    ADD COLUMN extra_income numeric CHECK (extra_income = round(extra_income, 2)),
    ADD COLUMN ceiling numeric CHECK (ceiling > 0),
    -- not blank, as btrim(ceiling_source) <> '': only a source that starts with a space is
    -- walked (btrim reads every character; on a million decisions that was a tenth of their
    -- write)
    ADD COLUMN ceiling_source text CHECK (ceiling_source <> '' AND (left(ceiling_source, 1) <> ' ' OR btrim(ceiling_source) <> '')),
    ADD COLUMN verdict text CHECK (verdict IN ('OK', 'NOK', 'ONHOLD')),
    ADD COLUMN events bigint[],
    ADD COLUMN candidates jsonb CHECK (jsonb_typeof(candidates) = 'array'),
    ADD COLUMN sends_feedback boolean NOT NULL DEFAULT true,
    ADD COLUMN provisional boolean NOT NULL DEFAULT false,
    ADD COLUMN cadastral_income numeric CHECK (cadastral_income >= 0 AND cadastral_income = round(cadastral_income, 2));
COMMENT ON COLUMN inami.control_decision.household_size IS 'Household size used for the ceiling: the number of Syst_01 members (the requester once).';
COMMENT ON COLUMN inami.control_decision.income_year IS 'Income year of the incomes (of the Syst_04 answer; control year - 2 without one).';
COMMENT ON COLUMN inami.control_decision.shipment IS 'Syst_04 shipment whose answer counted (the latest); NULL when no shipment answered the household.';
COMMENT ON COLUMN inami.control_decision.sent_total IS 'HouseholdTotal as the SCA sent it in that shipment, for comparison; not used for the decision.';
COMMENT ON COLUMN inami.control_decision.household_total IS 'Household income computed by R3 (inami.household_income over the members); NULL when unknown.';
COMMENT ON COLUMN inami.control_decision.extra_income IS 'Sum of the amounts of the extra_fiscal_data events (foreign income, alimony...: E 4.4) added by the OA; NULL without such amounts.';
COMMENT ON COLUMN inami.control_decision.ceiling IS 'IM ceiling (inami.im_plafond) for household_size and income_year.';
COMMENT ON COLUMN inami.control_decision.ceiling_source IS 'Source of the inami.im_ceiling row of income_year.';
COMMENT ON COLUMN inami.control_decision.verdict IS 'R3 verdict of the Syst_04 incomes: OK, NOK or ONHOLD (unknown or no answer).';
COMMENT ON COLUMN inami.control_decision.events IS 'event_id of every inami.household_event row the decision considered.';
COMMENT ON COLUMN inami.control_decision.sends_feedback IS 'Whether this OA reports the decision in its Syst_05 (inami.syst05_document): false for a household that moved to another OA (an oa_change before 1 May X+1) and that no Syst_04 answered here, whatever the reason reported: the CIN filter sent its fiscal data to the new OA, which sends the feedback (Circ. O.A. 2024/165, 2.3, 5.2).';
COMMENT ON COLUMN inami.control_decision.provisional IS 'True while the income that decides can still change: before a later Syst_04 shipment is loaded, the household has no answer yet or is unknown only through members answered in shipment 1 with a code of inami.return_code_asked_again (Circ. O.A. 2024/165, 4.1, 4.3); or, the income under the ceiling, the Syst_04 sent a cadastral income that no cadastral_income event assessed (on that amount sent, 4.4). inami.syst05_document refuses to write a provisional decision.';
COMMENT ON COLUMN inami.control_decision.cadastral_income IS 'The part of the own home''s cadastral income the OA counts (the amount of its cadastral_income event, while made on the CadastralIncome sent now, E 4.4), added to household_total for the verdict; NULL without a valid assessment.';
COMMENT ON COLUMN inami.control_decision.candidates IS 'Every candidate reason with its end of right (JSON array of {reason, right_end, from: "income" or "event N"}), in the order of precedence: the first is the one reported. inami.explain_decision gives the rule behind each.';

ALTER TABLE inami.proactive_decision
    ADD COLUMN household_size int CHECK (household_size >= 1),
    ADD COLUMN income_year int CHECK (income_year BETWEEN 1990 AND 2200),
    ADD COLUMN household_total numeric CHECK (household_total >= 0 AND household_total = round(household_total, 2)),
    ADD COLUMN ceiling numeric CHECK (ceiling > 0),
    ADD COLUMN eldest_niss text CHECK (inami.is_digits(eldest_niss, 11));
COMMENT ON COLUMN inami.proactive_decision.household_size IS 'Number of Pro_01 members (the ceiling''s household size, F 2.2).';
COMMENT ON COLUMN inami.proactive_decision.income_year IS 'Income year (year - 2, or that of the Pro_03 answers).';
COMMENT ON COLUMN inami.proactive_decision.household_total IS 'Household income by R3 from the latest Pro_03 answers; NULL when unknown.';
COMMENT ON COLUMN inami.proactive_decision.ceiling IS 'IM ceiling for household_size and income_year.';
COMMENT ON COLUMN inami.proactive_decision.eldest_niss IS 'The eldest member by NISS birth date (F 2.2: the requester is the eldest); compare with the Pro_01 requester. NULL when the NISS cannot tell (a month or day 00 that allows a day before another member''s last possible one, or an invalid NISS); on a day two members may share, the one whose NISS allows no later day, then the smaller NISS.';

-- R4: what the OA knows of a household besides the flows.
CREATE TABLE inami.household_event (
    event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    control_year int NOT NULL CHECK (control_year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    event text NOT NULL CHECK (event IN ('composition_change', 'child_under16_arrival', 'death', 'oa_change',
                                         'extra_fiscal_data', 'social_advantage', 'new_dsh', 'cadastral_income')),
    event_date date NOT NULL CHECK (event_date BETWEEN '1990-01-01' AND '2200-12-31'),
    detail text CHECK (btrim(detail) <> ''),
    amount numeric CHECK (amount = round(amount, 2)),
    basis numeric CHECK (basis = round(basis, 2)),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CHECK (amount IS NULL OR event IN ('extra_fiscal_data', 'cadastral_income')),
    CHECK (basis IS NULL OR event = 'cadastral_income'),
    CHECK (event <> 'cadastral_income' OR coalesce(amount >= 0 AND basis IS NOT NULL, false)),
    -- Also orders pg_dump: a household's events are restored after the household.
    FOREIGN KEY (control_year, request_number) REFERENCES inami.syst01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.household_event IS
'R4: what the OA knows of a Syst_01 household (E 5.3). composition_change -> STOPFAM (end of the quarter after the change); child_under16_arrival -> no end (a dependent child under 16 first registered in the national register, or who obtained temporary protection: the child gets the right too, art. 35 A.R. 15.01.2014, D); death -> STOPDEATH (the death that ends the household''s right; a death that only changes the composition is a composition_change); oa_change -> STOPOA; extra_fiscal_data -> STOPFISC; social_advantage -> KEEPADV (an advantage holding by 31 December X; one starting later opens a right of its own); new_dsh -> KEEPDSH (dated 1 October X - 31 March X+1); cadastral_income -> the part of the own home''s cadastral income the OA counts after the exemptions (E 4.4), added to the income. An unknown request number is refused; deleting the Syst_01 household (its file) deletes its events, like its decision.';
COMMENT ON COLUMN inami.household_event.event_id IS 'Identifies the event; decisions list the events they used.';
COMMENT ON COLUMN inami.household_event.control_year IS 'Control year of the Syst_01 household; filled from inami.syst01_household when omitted.';
COMMENT ON COLUMN inami.household_event.request_number IS 'The household, as in Syst_01.';
COMMENT ON COLUMN inami.household_event.event IS 'composition_change, child_under16_arrival, death, oa_change, extra_fiscal_data, social_advantage, new_dsh or cadastral_income.';
COMMENT ON COLUMN inami.household_event.event_date IS 'When it happened: the change, the death, the first day at the other OA, the day the OA learned the fiscal data, the start of the advantage, the day the new DSH was complete.';
COMMENT ON COLUMN inami.household_event.detail IS 'Free text: what happened, which member, the document.';
COMMENT ON COLUMN inami.household_event.amount IS 'extra_fiscal_data: yearly amount in EUR the OA adds to the household income of the income year (E 4.4); NULL when the OA records that the data end the right without an amount. cadastral_income (required, 0 or more): the part of the own home''s cadastral income (Syst_04 CadastralIncome) the OA counts after deducting the exempt amounts (E 4.4); 0.00 when nothing is left. Other events: NULL.';
COMMENT ON COLUMN inami.household_event.basis IS 'cadastral_income only (required): the CadastralIncome sent that the assessment was made on (the sum over the household''s latest answers, inami.systematic_households.cadastral_income; 0.00 when none was sent). When a later shipment sends another amount, the assessment no longer counts and the decision is provisional until the OA assesses again (UPDATE the event).';
COMMENT ON COLUMN inami.household_event.recorded_at IS 'When the event was recorded.';
-- A household's events: for the runs and explain_decision, and for ON DELETE CASCADE, which
-- would otherwise scan every event once per deleted household (deleting a Syst_01 file of
-- a million households).
CREATE INDEX household_event_household ON inami.household_event (control_year, request_number);
-- One assessment of the cadastral income per household: a new one replaces it (ON CONFLICT).
CREATE UNIQUE INDEX household_event_cadastral ON inami.household_event (control_year, request_number)
    WHERE event = 'cadastral_income';

CREATE FUNCTION inami._household_event_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    years int[];
BEGIN
    IF NEW.control_year IS NULL THEN
        SELECT array_agg(h.control_year ORDER BY h.control_year) INTO years
        FROM inami.syst01_household h WHERE h.request_number = NEW.request_number;
        IF cardinality(years) > 1 THEN
            RAISE EXCEPTION 'request number "%" is in several control years', NEW.request_number
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('inami.syst01_household has it for control years %s.', array_to_string(years, ', ')),
                      HINT = 'Give control_year with the event.';
        END IF;
        NEW.control_year := years[1];
    END IF;
    IF NEW.control_year IS NULL OR NOT EXISTS (
        SELECT 1 FROM inami.syst01_household h
        WHERE h.control_year = NEW.control_year AND h.request_number = NEW.request_number) THEN
        RAISE EXCEPTION 'unknown request number "%"', NEW.request_number
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('inami.syst01_household has no household %s%s.', NEW.request_number,
                                  CASE WHEN NEW.control_year IS NULL THEN ' in any control year'
                                       ELSE ' for control year ' || NEW.control_year END),
                  HINT = 'Load the Syst_01 file of the household first (inami.syst01_household), or correct the request number (OA + year + requester NISS).';
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION inami._household_event_check() IS
'Trigger: fills household_event.control_year from Syst_01 and refuses an event of an unknown household.';
CREATE TRIGGER household_event_check BEFORE INSERT OR UPDATE ON inami.household_event
FOR EACH ROW EXECUTE FUNCTION inami._household_event_check();

-- G (circ. 2024/250): the outcome of contacting an OK household, per person.
CREATE TABLE inami.proactive_outcome (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    niss text NOT NULL CHECK (inami.is_digits(niss, 11)),
    category int NOT NULL CHECK (category BETWEEN 1 AND 6),
    contacted boolean NOT NULL,
    dependent boolean NOT NULL DEFAULT false,
    automatic_child boolean NOT NULL DEFAULT false,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    note text CHECK (btrim(note) <> ''),
    PRIMARY KEY (year, request_number, niss),
    FOREIGN KEY (year, request_number, niss) REFERENCES inami.pro01_member ON DELETE CASCADE,
    FOREIGN KEY (year, request_number) REFERENCES inami.proactive_decision ON DELETE CASCADE,
    CHECK (NOT automatic_child OR category = 6),
    CHECK (category NOT IN (1, 2) OR NOT contacted)
);
COMMENT ON TABLE inami.proactive_outcome IS
'G (circ. O.A. 2024/250): what came of an OK household of the proactive flow, per person, in one of the six categories: 1 composition change, 2 information at the OA (not contacted: other data show the ceiling reached, or moved to another OA), 3 ceiling exceeded in the DSH, 4 no response, 5 right opened on a DSH, 6 automatic right on a social advantage. All persons of a household share one category, except a child with an automatic right (automatic_child, category 6) and a dependent with a social advantage (category 6, counted as a person only). inami.proactive_statistics(year) reports tables 1, 2 and 3.';
COMMENT ON COLUMN inami.proactive_outcome.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.proactive_outcome.request_number IS 'The Pro_01 household (its Pro_04 code must be OK).';
COMMENT ON COLUMN inami.proactive_outcome.niss IS 'The person, a Pro_01 member of the household.';
COMMENT ON COLUMN inami.proactive_outcome.category IS 'G 4: 1 MODIFICATION COMPOSITION DE MENAGE, 2 INFORMATION A L''O.A., 3 DEPASSEMENT PLAFOND DSH, 4 NON-REPONSE DE L''ASSURE, 5 DROIT DSH, 6 DROIT AUTOMATIQUE.';
COMMENT ON COLUMN inami.proactive_outcome.contacted IS 'True when the OA actually contacted the household (G 3, table 1); never for categories 1 and 2.';
COMMENT ON COLUMN inami.proactive_outcome.dependent IS 'The person is a dependent (personne a charge): in category 6 they count as a person, not for the household (G 4.2).';
COMMENT ON COLUMN inami.proactive_outcome.automatic_child IS 'A child with an automatic right (orphan, increased family allowances): may be in category 6 while the others are not, and then the household carries two categories (G 3).';
COMMENT ON COLUMN inami.proactive_outcome.recorded_at IS 'When the outcome was recorded.';
COMMENT ON COLUMN inami.proactive_outcome.note IS 'Free text.';

CREATE FUNCTION inami._proactive_outcome_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    code text;
    other record;
BEGIN
    -- The household's decision row written (to itself): a run changing its code, or another
    -- session writing the outcome of another person of the household, waits for this one,
    -- and under REPEATABLE READ fails rather than decide from a snapshot it has outdated.
    UPDATE inami.proactive_decision d SET run_id = d.run_id
    WHERE d.year = NEW.year AND d.request_number = NEW.request_number
    RETURNING d.code INTO code;
    IF code IS DISTINCT FROM 'OK' THEN
        RAISE EXCEPTION 'household "%" of % is not an OK household of the proactive flow', NEW.request_number, NEW.year
            USING ERRCODE = 'check_violation',
                  DETAIL = format('Its Pro_04 code is %s.', coalesce(code, 'not computed')),
                  HINT = 'Only households with code OK are contacted (F 2.3, G 3): run CALL inami.run_proactive_flow(year) first, or check the request number.';
    END IF;
    -- G 3: all members share one category, except the two kinds of category-6 persons.
    IF NOT (NEW.automatic_child OR (NEW.dependent AND NEW.category = 6)) THEN
        SELECT o.niss, o.category, o.contacted INTO other FROM inami.proactive_outcome o
        WHERE o.year = NEW.year AND o.request_number = NEW.request_number AND o.niss <> NEW.niss
          AND NOT (o.automatic_child OR (o.dependent AND o.category = 6))
          AND (o.category <> NEW.category OR o.contacted <> NEW.contacted)
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'every person of household "%" must have the same category and contact', NEW.request_number
                USING ERRCODE = 'check_violation',
                      DETAIL = format('%s has category %s (contacted %s); %s is given category %s (contacted %s).',
                                      other.niss, other.category, other.contacted, NEW.niss, NEW.category, NEW.contacted),
                      HINT = 'G 3: only a child with an automatic right (automatic_child) or a dependent with a social advantage (dependent, category 6) may differ; update the household''s rows in one statement (or SET CONSTRAINTS inami.proactive_outcome_household DEFERRED).';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION inami._proactive_outcome_check() IS
'Trigger: refuses an outcome for a household that is not OK, and a household whose persons disagree on the category outside G''s exception.';

CREATE FUNCTION inami._proactive_decision_keep_ok() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    outcomes bigint;
BEGIN
    IF OLD.code = 'OK' AND NEW.code IS DISTINCT FROM 'OK' THEN
        SELECT count(*) INTO outcomes FROM inami.proactive_outcome o
        WHERE o.year = OLD.year AND o.request_number = OLD.request_number;
        IF outcomes > 0 THEN
            RAISE EXCEPTION 'household "%" of % has recorded outcomes: its code cannot change from OK to %',
                            OLD.request_number, OLD.year, NEW.code
                USING ERRCODE = 'check_violation',
                      DETAIL = format('%s outcome rows in inami.proactive_outcome were recorded while it was OK.', outcomes),
                      HINT = format('A later answer changed its verdict: check the household, delete its outcomes (DELETE FROM inami.proactive_outcome WHERE year = %s AND request_number = %L) and run again.',
                                    OLD.year, OLD.request_number);
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION inami._proactive_decision_keep_ok() IS
'Trigger: refuses to change the code of an OK household that has outcomes (they were recorded because it was OK, G 3).';
CREATE TRIGGER proactive_decision_keep_ok BEFORE UPDATE OF code ON inami.proactive_decision
FOR EACH ROW EXECUTE FUNCTION inami._proactive_decision_keep_ok();
-- After the statement's rows are all in, so one UPDATE can move a whole household.
CREATE CONSTRAINT TRIGGER proactive_outcome_household AFTER INSERT OR UPDATE ON inami.proactive_outcome
DEFERRABLE INITIALLY IMMEDIATE
FOR EACH ROW EXECUTE FUNCTION inami._proactive_outcome_check();

DO $$
DECLARE
    t regclass;
BEGIN
    FOREACH t IN ARRAY ARRAY['inami.household_event', 'inami.household_event_event_id_seq',
                             'inami.proactive_outcome']::regclass[]
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(t, '');
    END LOOP;
END;
$$;
