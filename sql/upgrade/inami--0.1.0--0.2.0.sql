-- inami 0.1.0 -> 0.2.0. Every change 0.2.0 makes to an object 0.1.0 installed, in the order
-- that keeps each statement valid; the upgrade test proves that an updated database equals
-- a fresh 0.2.0 install (test/t/010_upgrade.pl). Make assembles inami--0.1.0--0.2.0.sql from
-- this file: a line "-- @include FILE" stands for the whole of FILE, a domain of 0.2.0 whose
-- objects are all new, and "-- @include FILE NAME" for the function or procedure inami.NAME
-- that 0.2.0 adds or changes, as CREATE OR REPLACE with its COMMENT: each is written once,
-- in its install source (sql/install/). At the release, the assembled script is kept in
-- sql/ as it shipped, as the install script of 0.1.0 is.
\echo Use "ALTER EXTENSION inami UPDATE TO '0.2.0'" to load this file. \quit

------------------------------------------------------------------------------------------
-- Internal helpers are named with a leading underscore: the aggregates' support functions,
-- the trigger functions and the plumbing of the control runs. \dx+ inami lists them apart
-- from the API, and no access level grants them.
------------------------------------------------------------------------------------------
ALTER FUNCTION inami.check_year(integer,text) RENAME TO _check_year;
ALTER FUNCTION inami.control_lock_key(text) RENAME TO _control_lock_key;
ALTER FUNCTION inami.control_right_end(text,integer,date) RENAME TO _control_right_end;
ALTER FUNCTION inami.control_rule(text,text,text) RENAME TO _control_rule;
ALTER PROCEDURE inami.control_run_fail(bigint,text,text,text,text,text,text[]) RENAME TO _control_run_fail;
ALTER FUNCTION inami.control_run_raise(text,text,text,text,text,text,text,text,text,text) RENAME TO _control_run_raise;
ALTER FUNCTION inami.control_run_start(text,integer) RENAME TO _control_run_start;
ALTER FUNCTION inami.household_event_check() RENAME TO _household_event_check;
ALTER FUNCTION inami.household_income_combine(internal,internal) RENAME TO _household_income_combine;
ALTER FUNCTION inami.household_income_deserial(bytea,internal) RENAME TO _household_income_deserial;
ALTER FUNCTION inami.household_income_final(internal) RENAME TO _household_income_final;
ALTER FUNCTION inami.household_income_serial(internal) RENAME TO _household_income_serial;
ALTER FUNCTION inami.household_income_trans(internal,text,numeric,date,integer) RENAME TO _household_income_trans;
ALTER FUNCTION inami.ipcal_income_combine(internal,internal) RENAME TO _ipcal_income_combine;
ALTER FUNCTION inami.ipcal_income_deserial(bytea,internal) RENAME TO _ipcal_income_deserial;
ALTER FUNCTION inami.ipcal_income_final(internal) RENAME TO _ipcal_income_final;
ALTER FUNCTION inami.ipcal_income_serial(internal) RENAME TO _ipcal_income_serial;
ALTER FUNCTION inami.ipcal_income_trans(internal,text,numeric,integer) RENAME TO _ipcal_income_trans;
ALTER FUNCTION inami.maf_counter_combine(internal,internal) RENAME TO _maf_counter_combine;
ALTER FUNCTION inami.maf_counter_deserialize(bytea,internal) RENAME TO _maf_counter_deserialize;
ALTER FUNCTION inami.maf_counter_serialize(internal) RENAME TO _maf_counter_serialize;
ALTER FUNCTION inami.maf_counter_trans(internal,numeric,numeric) RENAME TO _maf_counter_trans;
ALTER FUNCTION inami.maf_household_combine(internal,internal) RENAME TO _maf_household_combine;
ALTER FUNCTION inami.maf_household_deserialize(bytea,internal) RENAME TO _maf_household_deserialize;
ALTER FUNCTION inami.maf_household_final(internal) RENAME TO _maf_household_final;
ALTER FUNCTION inami.maf_household_serialize(internal) RENAME TO _maf_household_serialize;
ALTER FUNCTION inami.maf_household_trans(internal,integer,text,date,boolean,text,boolean,boolean,text,text) RENAME TO _maf_household_trans;
ALTER FUNCTION inami.maf_refund_final(internal) RENAME TO _maf_refund_final;
ALTER FUNCTION inami.maf_refunded_final(internal) RENAME TO _maf_refunded_final;
ALTER FUNCTION inami.proactive_decision_keep_ok() RENAME TO _proactive_decision_keep_ok;
ALTER FUNCTION inami.proactive_members(integer,text) RENAME TO _proactive_members;
ALTER FUNCTION inami.proactive_outcome_check() RENAME TO _proactive_outcome_check;
ALTER FUNCTION inami.protect_shipped_row() RENAME TO _protect_shipped_row;
ALTER FUNCTION inami.protect_shipped_truncate() RENAME TO _protect_shipped_truncate;
ALTER FUNCTION inami.syst04_later_shipment_loaded(integer) RENAME TO _syst04_later_shipment_loaded;

-- The functions whose body names a renamed helper: a body in quotes looks it up by name
-- when it runs, and a BEGIN ATOMIC body keeps the old name as a column alias.
-- @include sql/install/20-rules.sql contribution_minimum

-- R4: one candidate of a household as control_decision.candidates lists it.
-- @include sql/install/51-control_runs.sql _candidate_json

-- R4: every candidate end of right of the households of a control year, in precedence order,
-- each with every candidate of its household as JSON (what a decision keeps). One stream,
-- nothing of it stored: the rule's text is computed at the top, so that a caller that does
-- not read it (the control run) does not pay for it; a household's candidates are ranked
-- and gathered by one window, for the households with events only.
-- @include sql/install/51-control_runs.sql _systematic_candidates

-- R4: every candidate end of right of the households of a control year, in precedence order.
-- @include sql/install/51-control_runs.sql systematic_candidates

-- @include sql/install/51-control_runs.sql _control_run_fail

-- INSERT INTO target <query>, the target's foreign keys checked once for every row
-- (insert_select.c): what the runs write their decisions with.
-- @include sql/install/51-control_runs.sql _insert_select

-- R4: the decision of every Syst_01 household of a control year, as the run writes it: the
-- first candidate of each, with every candidate as JSON (only the columns kept).
-- @include sql/install/51-control_runs.sql _control_decisions

-- The households without members the run's pass met: a rerun looks for decisions left
-- without members only when there are some.
-- @include sql/install/51-control_runs.sql _systematic_memberless

-- @include sql/install/51-control_runs.sql run_systematic_control

-- @include sql/install/51-control_runs.sql run_proactive_flow

-- @include sql/install/52-explain.sql explain_decision

-- @include sql/install/53-retention.sql purge_expired

-- A decision's ceiling source stays not blank, by a CHECK that walks only a source starting
-- with a space (as in sql/install/50-control.sql).
ALTER TABLE inami.control_decision DROP CONSTRAINT control_decision_ceiling_source_check,
    ADD CONSTRAINT control_decision_ceiling_source_check
        CHECK (ceiling_source <> '' AND (left(ceiling_source, 1) <> ' ' OR btrim(ceiling_source) <> ''));

COMMENT ON FUNCTION inami._control_lock_key(text) IS
'First key of the transaction advisory lock (kind, year) a control run holds while it writes: pg_advisory_xact_lock(inami._control_lock_key(kind), year).';

-- @include sql/install/70-reports.sql

------------------------------------------------------------------------------------------
-- Published figures stay as the sources give them: a parameter row an operator adds or
-- edits may not change a figure of the period the shipped rows vouch for, nor may a
-- coverage row vouch for a quarter that has not begun (inami._refuse_vouched_change,
-- called by the protect_shipped triggers). NaN and the infinities are not amounts: the
-- SQL and PL/pgSQL functions that take one refuse them (inami._finite_amount).
------------------------------------------------------------------------------------------
-- @include sql/install/10-parameters.sql _refuse_vouched_change

-- @include sql/install/10-parameters.sql _protect_shipped_row

-- @include sql/install/20-rules.sql _finite_amount

-- @include sql/install/20-rules.sql dependent_income_within_limit

-- @include sql/install/20-rules.sql contribution_complement

-- @include sql/install/60-maf.sql maf_ceiling

------------------------------------------------------------------------------------------
-- Scale-out: maf_member[] a member of the extension (postgres_fdw ships maf_household to a
-- shard only then), the shard hash and its operator class, the parameter fingerprint,
-- the coordinator's shard tables and functions, the sharded control runs and documents
-- (as in sql/install/70-shards.sql).
------------------------------------------------------------------------------------------
ALTER EXTENSION inami ADD TYPE inami.maf_member[];

-- @include sql/install/70-shards.sql

------------------------------------------------------------------------------------------
-- Operations: the run log tied to pg_cron and interrupted runs (inami.control_run), the
-- progress of loads and runs (inami.progress), one OA's rows per role (row-level security,
-- inami.oa_access, inami.set_oa_security) and the access levels (inami_analyst,
-- inami_operator, inami_parameters; inami.privileges). As in sql/install/50-control.sql,
-- 51-control_runs.sql and 80-operations.sql. Keep this section after every section that
-- creates a table, view or routine: its last statement grants the levels on all of them.
------------------------------------------------------------------------------------------
ALTER TABLE inami.control_run ADD COLUMN cron_jobid bigint, ADD COLUMN cron_runid bigint,
    DROP CONSTRAINT control_run_status_check,
    ADD CONSTRAINT control_run_status_check CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'));
COMMENT ON COLUMN inami.control_run.status IS 'running, succeeded, failed, or interrupted: the session ended while the run was running (a server crash, a terminated backend), as the next run of the same kind and year found.';
COMMENT ON COLUMN inami.control_run.error_message IS 'Message (with detail and hint) of the error that failed the run; for an interrupted run, which run found it and when.';
COMMENT ON COLUMN inami.control_run.cron_jobid IS 'The pg_cron job that started the run (cron.job_run_details.jobid); NULL when not started by pg_cron.';
COMMENT ON COLUMN inami.control_run.cron_runid IS 'The pg_cron run of that job (cron.job_run_details.runid); NULL when not started by pg_cron.';

-- @include sql/install/51-control_runs.sql _control_run_start

-- The lock that tells a live run (inami._control_run_start): its second key.
-- @include sql/install/51-control_runs.sql _control_alive_key

-- When a run's status leaves running: its report in inami.progress ends and its lock goes.
-- @include sql/install/51-control_runs.sql _control_run_ended
CREATE TRIGGER control_run_ended AFTER UPDATE OF status ON inami.control_run
FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status <> 'running')
EXECUTE FUNCTION inami._control_run_ended();

-- @include sql/install/80-operations.sql

-- @include sql/install/95-search_path.sql
