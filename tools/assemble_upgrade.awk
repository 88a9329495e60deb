# Assembles an upgrade script from its source in sql/upgrade/ (make runs it; see the
# Makefile). A line of the source
#   -- @include sql/install/FILE          stands for the whole of FILE (a domain the version adds);
#   -- @include sql/install/FILE NAME     for the function or procedure inami.NAME of FILE, from
#                                         its CREATE, made CREATE OR REPLACE, through the COMMENT
#                                         that follows it:
# an object the version adds or changes is written once, in its install source.
# Variables: src (the source tree), name (the source's name, for the first line).

function fail(msg) {
	print FILENAME ":" FNR ": " msg > "/dev/stderr"
	exit 1
}

function whole(file,    line) {
	if ((getline line < file) <= 0)
		fail("no file " file)
	print line
	while ((getline line < file) > 0)
		print line
	close(file)
}

function object(file, obj,    line, state, found, create, comment) {
	create = "^CREATE (FUNCTION|PROCEDURE) inami\\." obj "\\("
	comment = "^COMMENT ON (FUNCTION|PROCEDURE) inami\\." obj "\\("
	state = 0
	while ((getline line < file) > 0) {
		if (line ~ create) {
			if (++found > 1)
				fail(file " creates inami." obj " more than once")
			state = 1
			sub(/^CREATE /, "CREATE OR REPLACE ", line)
		} else if (state == 1 && line ~ comment)
			state = 2
		else if (state == 1 && line ~ /^(CREATE|COMMENT ON|ALTER|GRANT|REVOKE|DROP) /)
			fail("inami." obj " in " file " is not followed by its COMMENT")
		if (state == 1 || state == 2)
			print line
		if (state == 2 && line ~ /';$/)
			state = 3
	}
	close(file)
	if (found == 0)
		fail("no inami." obj " in " file)
	if (state != 3)
		fail("inami." obj " in " file " has no COMMENT")
}

NR == 1 { print "-- assembled by make from " name "; edit that, not this." }

/^-- @include/ {
	if ($0 ~ /\r/ || (NF != 3 && NF != 4))
		fail("malformed: " $0)
	if (NF == 3) {
		print "-- " $3
		whole(src "/" $3)
	} else {
		print "-- " $3 ": inami." $4
		object(src "/" $3, $4)
	}
	next
}

{ print }
