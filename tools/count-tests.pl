#!/usr/bin/perl
# Count every test of a finished "make installcheck" in the directory given: each pgTAP
# assertion in the pg_regress results, each pg_regress file without assertions (and any
# file whose output differs without a failed assertion), each isolation spec, and each
# TAP assertion. Prints one last line "N passed, N failed", plus ", N todo" when TAP
# assertions are marked TODO (a known disagreement, kept visible: not a pass, not a failure).
use strict;
use warnings;

my ($dir, $status) = @ARGV;
die "usage: count-tests.pl DIR [EXIT-STATUS]\n" unless defined $dir;
$status //= 0;
my ($passed, $failed, $todo) = (0, 0, 0);

open my $log, '<', "$dir/installcheck.log" or die "no installcheck.log in $dir\n";
my @log = <$log>;
close $log;

for (@log) {
	# pg_regress and pg_isolation_regress (PostgreSQL 15): "test NAME ... ok|FAILED"
	if (/^(?:test\s+|\s+)(\S+)\s+\.\.\.\s+(ok|FAILED|failed)/) {
		my ($name, $verdict) = ($1, $2);
		my $out = "$dir/results/$name.out";
		if (-f $out) {
			open my $fh, '<', $out or die;
			my ($ok, $notok) = (0, 0);
			while (<$fh>) {
				$ok++ if /^\s*ok \d+/;
				$notok++ if /^\s*not ok \d+/;
				# pgTAP's finish(): a plan that does not match what ran is a failure
				$notok++ if /^\s*# Looks like you planned \d+ tests? but ran \d+/;
			}
			close $fh;
			if ($ok + $notok > 0) {
				$passed += $ok;
				$failed += $notok;
				$failed++ if $verdict ne 'ok' && $notok == 0;
				next;
			}
		}
		$verdict eq 'ok' ? $passed++ : $failed++;
	}
	# TAP (prove): "t/NAME.pl .. ok" lines carry no counts; read the assertion lines
	elsif (/^\s*(?:not )?ok \d+.*# TODO/) { $todo++ }
	elsif (/^\s*ok \d+/) { $passed++ }
	elsif (/^\s*not ok \d+/) { $failed++ }
}
# a runner that stopped on its own (a crash, a missing file) is a failure too
$failed++ if $status != 0 && $failed == 0;
print "$passed passed, $failed failed", ($todo ? ", $todo todo" : ""), "\n";
exit($failed ? 1 : 0);
