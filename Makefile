# inami: PostgreSQL extension, built with PGXS.
EXTENSION = inami
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" inami.control)

MODULE_big = inami
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
# The install script of the current version is built from the per-domain sources in
# sql/install/, in the order of their numbers; the upgrade script to it from sql/upgrade/,
# where a line "-- @include sql/install/FILE [NAME]" stands for a whole domain that the
# version adds, or for one function or procedure it adds or changes
# (tools/assemble_upgrade.awk). The install scripts of released versions and the upgrade
# scripts between them are kept in sql/ as they shipped: a database made with an older
# version reaches this one through ALTER EXTENSION inami UPDATE.
EXT_SCRIPT = inami--$(EXTVERSION).sql
UPGRADE_SCRIPTS = $(notdir $(wildcard $(srcdir)/sql/upgrade/inami--*.sql))
DATA_built = $(EXT_SCRIPT) $(UPGRADE_SCRIPTS)
DATA = $(filter-out $(EXT_SCRIPT) $(UPGRADE_SCRIPTS),$(wildcard sql/inami--*.sql))

PG_CPPFLAGS = -I$(srcdir)/src -DINAMI_VERSION='"$(EXTVERSION)"'
SHLIB_LINK += -lxml2

# pg_regress inputs live in sql/ beside the install script (PostgreSQL 15's pg_regress
# has no --expecteddir): every sql/NAME.sql but the install scripts is a test, and each
# suite runs in a throwaway instance of its own.
REGRESS = $(sort $(filter-out inami--%,$(basename $(notdir $(wildcard sql/*.sql)))))
REGRESS_OPTS = --temp-config=$(srcdir)/test/inami.conf --temp-instance=$(CURDIR)/tmp_check \
	--load-extension=pgtap --load-extension=inami

# Isolation specs in test/specs, their expected output in test/expected; a throwaway
# instance of their own, like the pg_regress suites.
ISOLATION = control_concurrency proactive_outcome_concurrency flow_load_concurrency insert_select_locks
ISOLATION_OPTS = --inputdir=$(srcdir)/test --temp-instance=$(CURDIR)/tmp_check_iso \
	--temp-config=$(srcdir)/test/inami.conf

TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header: every object (and its JIT bitcode) is rebuilt when one of ours
# changes.
$(OBJS) $(OBJS:.o=.bc): $(wildcard $(srcdir)/src/*.h)

$(EXT_SCRIPT): $(sort $(wildcard $(srcdir)/sql/install/*.sql)) inami.control
	{ printf -- '-- inami %s: assembled by make from sql/install/*.sql; edit those, not this.\n' '$(EXTVERSION)'; \
	  printf -- '\\echo Use "CREATE EXTENSION inami" to load this file. \\quit\n'; \
	  for f in $(sort $(wildcard $(srcdir)/sql/install/*.sql)); do printf '\n-- %s\n' "$${f#$(srcdir)/}"; cat "$$f"; done; } >$@

$(UPGRADE_SCRIPTS): inami--%.sql: $(srcdir)/sql/upgrade/inami--%.sql $(wildcard $(srcdir)/sql/install/*.sql) \
		$(srcdir)/tools/assemble_upgrade.awk
	awk -v src='$(srcdir)' -v name='sql/upgrade/$@' -f $(srcdir)/tools/assemble_upgrade.awk $< >$@.tmp
	mv $@.tmp $@

# The documentation, the client examples and the schemas of the exchange formats, which the
# readers' HINTs name, installed beside PostgreSQL's own extension docs.
INAMI_DOCDIR = $(docdir)/extension/inami
install: install-inami-docs
uninstall: uninstall-inami-docs
.PHONY: install-inami-docs uninstall-inami-docs
install-inami-docs:
	$(MKDIR_P) '$(DESTDIR)$(INAMI_DOCDIR)/xsd' '$(DESTDIR)$(INAMI_DOCDIR)/examples'
	$(INSTALL_DATA) $(addprefix $(srcdir)/,README.md CHANGELOG.md LICENSE) $(sort $(wildcard $(srcdir)/doc/*.md)) '$(DESTDIR)$(INAMI_DOCDIR)/'
	$(INSTALL_DATA) $(sort $(wildcard $(srcdir)/xsd/*.xsd)) '$(DESTDIR)$(INAMI_DOCDIR)/xsd/'
	$(INSTALL_DATA) $(sort $(wildcard $(srcdir)/doc/examples/*)) '$(DESTDIR)$(INAMI_DOCDIR)/examples/'
uninstall-inami-docs:
	rm -rf '$(DESTDIR)$(INAMI_DOCDIR)'
