-- inami 0.1.0 -> 0.2.0. Every change 0.2.0 makes to an object 0.1.0 installed, in the order
-- that keeps each statement valid; the upgrade test proves that an updated database equals
-- a fresh 0.2.0 install (tools/upgrade-check.sh, test/t/010_upgrade.pl).
\echo Use "ALTER EXTENSION inami UPDATE TO '0.2.0'" to load this file. \quit
