#!/usr/bin/perl
# Writes realistic exchange files (formats of api.md) of any size, reproducibly: the same
# --seed and --households give the same bytes, and the Syst01, both Syst04 shipments,
# Pro01 and Pro03 of one seed describe the same households (valid NISS, request numbers
# OA + year + requester NISS, the requester among the members, incomeYear = year - 2).
#
#   perl bench/gen_flows.pl --kind syst01|syst04|pro01|pro03 --households N
#        [--shipment 1|2] [--year 2024] [--oa 300] [--seed 1] [--out FILE]
#
# Syst04 shipment 1 answers about 85% of the households (members whose income is not
# known yet get return code 03 and no items; HouseholdTotal only when all are known);
# shipment 2 answers the other 15% and re-answers 5% of shipment 1. About 600 bytes per
# household in Syst04: 1,700,000 households make a 1 GB file.
use strict;
use warnings;
use Getopt::Long;

my ($kind, $n, $shipment, $year, $oa, $seed, $out) = ('', 0, 1, 2024, '300', 1, '-');
GetOptions('kind=s' => \$kind, 'households=i' => \$n, 'shipment=i' => \$shipment,
	'year=i' => \$year, 'oa=s' => \$oa, 'seed=i' => \$seed, 'out=s' => \$out)
  or die "usage: see the head of $0\n";
die "--kind is one of syst01 syst04 pro01 pro03\n" unless $kind =~ /^(syst01|syst04|pro01|pro03)$/;
die "--households N (1 to 7,500,000)\n" unless $n >= 1 && $n <= 7_500_000;

my $fh;
if ($out eq '-') { $fh = \*STDOUT } else { open($fh, '>', $out) or die "$out: $!\n" }
binmode $fh;

# A small deterministic generator per household: the same household whatever the file.
my $state;
sub rnd15 { $state = ($state * 1103515245 + 12345) % 2147483648; return int($state / 65536); }
sub rnd { my ($mod) = @_; return ($mod <= 32768 ? rnd15() : rnd15() * 32768 + rnd15()) % $mod; }
sub seed_household { my ($i) = @_; $state = ($seed * 7919 + $i * 104729 + 17) % 2147483648; rnd(2) for 1 .. 3; }

# Member k (0 = requester) of household i: unique NISS with valid check digits.
sub niss {
	my ($i, $k) = @_;
	my $d = $i % 30240;
	my $y = 1930 + $d % 90;
	my $m = 1 + int($d / 90) % 12;
	my $dd = 1 + int($d / 1080) % 28;
	my $serial = int($i / 30240) * 4 + $k + 1;
	my $base = sprintf('%02d%02d%02d%03d', $y % 100, $m, $dd, $serial);
	my $check = 97 - (($y >= 2000 ? 2000000000 : 0) + $base) % 97;
	return $base . sprintf('%02d', $check);
}

sub amount { my ($cents) = @_; my $s = $cents < 0 ? '-' : ''; $cents = abs($cents);
	return sprintf('%s%d.%02d', $s, int($cents / 100), $cents % 100); }

my @codes = ('1250', '1251', '1460', '1650', '2250', '1286');
my $root = { syst01 => qq{<Syst01 xmlns="urn:be:inami:flows:1" controlYear="$year" oa="$oa">},
	syst04 => qq{<Syst04 xmlns="urn:be:inami:flows:1" controlYear="$year" incomeYear="} . ($year - 2) . qq{" shipment="$shipment">},
	pro01 => qq{<Pro01 xmlns="urn:be:inami:flows:1" year="$year" oa="$oa">},
	pro03 => qq{<Pro03 xmlns="urn:be:inami:flows:1" year="$year" incomeYear="} . ($year - 2) . qq{" shipment="$shipment">} }->{$kind};
my $end = { syst01 => '</Syst01>', syst04 => '</Syst04>', pro01 => '</Pro01>', pro03 => '</Pro03>' }->{$kind};
print $fh qq{<?xml version="1.0" encoding="UTF-8"?>\n$root\n};

for my $i (0 .. $n - 1) {
	seed_household($i);
	my $size = 1 + rnd(4);
	my @members = map { niss($i, $_) } 0 .. $size - 1;
	my $req = $members[0];
	my $rn = sprintf('%s%04d%s', $oa, $year, $req);
	my $late = rnd(100) < 15;                   # answered only in shipment 2
	my $again = rnd(100) < 5;                   # shipment 2 answers it again
	if ($kind eq 'syst01' || $kind eq 'pro01') {
		print $fh qq{  <Household requestNumber="$rn">\n    <Requester niss="$req"/>\n};
		print $fh qq{    <Member niss="$_"/>\n} for @members;
		print $fh "  </Household>\n";
		next;
	}
	if ($kind eq 'pro03') {
		for my $m (@members) {
			my $rc = $shipment == 1 && $late ? '03' : '00';
			if ($rc ne '00') { print $fh qq{  <Person niss="$m" returnCode="$rc"/>\n}; next; }
			print $fh qq{  <Person niss="$m" returnCode="00">};
			print $fh qq{<Ipcal code="$codes[rnd(6)]" amount="} . amount(rnd(3000000) - 20000) . '"/>' for 1 .. rnd(3);
			print $fh "</Person>\n";
		}
		next;
	}
	# Syst04
	next if $shipment == 1 && $late;
	next if $shipment == 2 && !$late && !$again;
	my $unknown = $shipment == 1 && rnd(100) < 10;  # one member not processed yet
	my (@lines, $total);
	$total = 0;
	for my $k (0 .. $#members) {
		my $m = $members[$k];
		my $rc = ($unknown && $k == $#members) ? '03' : '00';
		if ($rc ne '00') { push @lines, qq{    <Member niss="$m" returnCode="$rc"/>\n}; next; }
		my $line = qq{    <Member niss="$m" returnCode="00">\n};
		$line .= sprintf("      <TaxSheet>%010d</TaxSheet>\n", $i * 4 + $k) if rnd(2);
		my $personal = 0;
		for (1 .. ($k >= 2 ? rnd(2) : 1 + rnd(3))) {
			my $a = rnd(100) < 3 ? -rnd(50000) : rnd(4000000);
			$personal += $a;
			$line .= qq{      <Ipcal code="$codes[rnd(6)]" amount="} . amount($a) . qq{"/>\n};
		}
		$line .= "      <CadastralIncome>" . amount(rnd(150000)) . "</CadastralIncome>\n" if rnd(4) == 0;
		$line .= "      <PersonalTotal>" . amount($personal) . "</PersonalTotal>\n";
		$line .= "    </Member>\n";
		$total += $personal;
		push @lines, $line;
	}
	print $fh qq{  <Household requestNumber="$rn">\n    <Requester niss="$req"/>\n};
	print $fh "    <HouseholdTotal>" . amount($total) . "</HouseholdTotal>\n" unless $unknown;
	print $fh @lines;
	print $fh "  </Household>\n";
}
print $fh "$end\n";
close $fh or die "$out: $!\n";
