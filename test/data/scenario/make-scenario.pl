#!/usr/bin/perl
# make-scenario.pl: the files of one systematic control year (control year 2024, OA 300,
# income year 2022, tax year 2023) in the published format (api.md, namespace
# urn:be:inami:flows:1), built household by household around the cases Circ. O.A. 2024/165
# (sources-fr.txt, part E) describes, each with the outcome the circular gives.
#
#   perl make-scenario.pl --out DIR
#
# writes into DIR:
#   syst01.xml      Syst_01 of OA 300 (the households OA 300 lists)
#   syst04_1.xml    Syst_04 shipment 1 (August)
#   syst04_2.xml    Syst_04 shipment 2 (October: what August left open)
#   ipcal.sql       the IPCAL factors of tax year 2023 the scenario uses (1, -1, 0.1, 0)
#   events.sql      the OA's household events (INSERT INTO inami.household_event)
#   expected.csv    per household: the circular's outcome (reason, right end, household
#                   income) and the section that says so
#
# Nothing random: the same files every time. The NISS are made here (R9 check digits;
# 2 in front of the nine digits for births from 2000 on; bis numbers add 20 to the month;
# month or day 00 when the register does not know them).
#
# Ceilings of income year 2022 (E 4.2: 23,303.84 + 4,314.18 per extra member):
#   1: 23303.84   2: 27618.02   3: 31932.20   4: 36246.38   5: 40560.56
# A household qualifies when its income is UNDER the ceiling ("vérifier si les revenus sont
# inférieurs au plafond applicable", A; F 2.2 "supérieurs ou égaux au plafond : NOK").
use strict;
use warnings;
use Getopt::Long;

my $out;
GetOptions('out=s' => \$out) or die "usage: make-scenario.pl --out DIR\n";
die "usage: make-scenario.pl --out DIR\n" unless defined $out;
-d $out or mkdir $out or die "cannot create $out: $!\n";

my ($YEAR, $OA, $INCOME_YEAR) = (2024, '300', 2022);

# IPCAL factors (E 4.2: the yearly list is an unpublished annex; these are the scenario's).
my @ipcal = (
	[ '1250', '1',   'scenario: wages, added' ],
	[ '1460', '-1',  'scenario: deduction, subtracted' ],
	[ '1270', '0.1', 'scenario: spread over ten years' ],
	[ '1999', '0',   'scenario: ignored' ]);

# ---------------------------------------------------------------------------------------
# NISS
my $seq = 100;
sub niss
{
	my ($born, %o) = @_;    # born 'YYYY-MM-DD', MM or DD may be 00
	my ($y, $m, $d) = split /-/, $born;
	$m += $o{bis} // 0;
	my $s = sprintf('%03d', $o{seq} // ++$seq);
	my $nine = sprintf('%02d%02d%02d%s', $y % 100, $m, $d, $s);
	my $base = $y >= 2000 ? "2$nine" : $nine;
	my $cc = 97 - ($base % 97);
	return sprintf('%s%02d', $nine, $cc);
}

# ---------------------------------------------------------------------------------------
# The households.
#
# m: the members, the requester first; each [born, shipment-1 answer, shipment-2 answer,
# options]. An answer is undef (the shipment does not list the member), a return code
# ('01', '03', ...) or '00' with IPCAL items: '00:1250=15000.00,1460=500.00'.
# A household is in a shipment when one of its members is. Options: bis => 1 (the Syst_01
# NISS is a bis number), new => 1 (the Syst_04 answers under a new NISS: E 2.4).
# oa: a household another OA listed (not in OA 300's Syst_01; the CIN filter sends its
# answer here, E 2.3). ev: [event, date, amount, detail].
# expect: [reason, right end, household income (undef: unknown), basis]; reason ABSENT:
# OA 300 sends no feedback for it; right end '*': the circular gives no date to check
# (where the circular gives none but the README documents a choice, the choice is checked
# and the basis says so).
my @H;
sub h { push @H, {@_} }

my $A = '00:1250=';

# --- R3 and the ceiling (E 4.2-4.4, 5.1) ---
h(id => 'H01', label => "R3's example: 15,000 + 12,000 + a child born 2010 with code 01",
  m => [ [ '1980-03-04', "${A}15000.00" ], [ '1982-11-30', "${A}12000.00" ], [ '2010-06-15', '01' ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '27000.00',
	'E 4.3 (under 18 on 1 Jan 2023, unknown income: 0 EUR), E 5.1 (prolonged until 31 Dec 2025)' ]);
h(id => 'H02', label => 'single, income equal to the ceiling',
  m => [ [ '1970-05-05', "${A}23303.84" ] ],
  expect => [ 'STOPSYST', '2024-12-31', '23303.84',
	'A: "vérifier si les revenus sont inférieurs au plafond"; E 5.1: "mis fin au droit au 31 décembre 2024"' ]);
h(id => 'H03', label => 'single, one cent under the ceiling',
  m => [ [ '1971-06-06', "${A}23303.83" ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '23303.83', 'E 5.1' ]);
h(id => 'H04', label => 'three members, total equal to the ceiling (a child "00" without IPCAL item)',
  m => [ [ '1975-01-10', "${A}20000.00" ], [ '1976-02-11', "${A}11932.20" ], [ '2012-03-12', '00' ] ],
  expect => [ 'STOPSYST', '2024-12-31', '31932.20', 'E 4.2 ceiling for 3, E 4.3 ("00" with 0 EUR), E 5.1' ]);
h(id => 'H05', label => 'three members, one cent under the ceiling',
  m => [ [ '1975-01-11', "${A}20000.00" ], [ '1976-02-12', "${A}11932.19" ], [ '2013-03-13', '01' ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '31932.19', 'E 4.3, E 5.1' ]);
h(id => 'H06', label => 'IPCAL factor 0.1 brings a single to the ceiling',
  m => [ [ '1968-07-07', "${A}20000.00,1270=33038.40" ] ],
  expect => [ 'STOPSYST', '2024-12-31', '23303.84', 'E 4.2 (IPCAL list: how each code counts), E 5.1' ]);
h(id => 'H07', label => 'IPCAL factor -1: one cent under the ceiling',
  m => [ [ '1969-08-08', "${A}25000.00,1460=1696.17" ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '23303.83', 'E 4.2, E 5.1' ]);
h(id => 'H08', label => 'IPCAL factor 0: an item that does not count',
  m => [ [ '1972-09-09', "${A}20000.00,1999=50000.00" ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '20000.00', 'E 4.2, E 5.1' ]);
h(id => 'H09', label => 'factors 1, 0.1, -1 and 0 in one member; two members equal to the ceiling',
  m => [ [ '1973-10-10', "${A}18000.00,1270=40000.00,1460=500.00,1999=9999.99" ], [ '1974-11-11', "${A}6118.02" ] ],
  expect => [ 'STOPSYST', '2024-12-31', '27618.02', 'E 4.2, E 5.1' ]);
h(id => 'H10', label => 'a member 18 on 1 January 2023 (born 1 Jan 2005), code 01',
  m => [ [ '1978-04-04', "${A}10000.00" ], [ '2005-01-01', '01' ] ],
  expect => [ 'STOPSYST', '2024-12-31', undef,
	'E 4.3: "L\'âge ... est calculé par rapport au 1er janvier de l\'année d\'imposition" (18 that day: not under 18); E 5.1 / art. 38 par. 3' ]);
h(id => 'H11', label => 'a member 18 on 2 January 2023 (born 2 Jan 2005), code 01',
  m => [ [ '1978-04-05', "${A}10000.00" ], [ '2005-01-02', '01' ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '10000.00', 'E 4.3: under 18 on 1 Jan 2023, "assimilés à zéro EUR"' ]);
h(id => 'H12', label => 'a child under 18 still "not processed" (04) in October',
  m => [ [ '1979-05-05', "${A}20000.00", "${A}20000.00" ], [ '1980-05-06', "${A}5000.00" ], [ '2008-09-09', '04', '04' ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '25000.00', 'E 4.3 (under 18: 0 EUR whatever the code), footnotes 3 and 7' ]);
h(id => 'H13', label => 'a child answered "00" with 0 EUR (no IPCAL item)',
  m => [ [ '1981-06-06', "${A}15000.00" ], [ '2014-04-04', '00' ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '15000.00', 'E 4.3: "reçoivent donc quand même un code retour 00 avec un revenu égal à 0 EUR"' ]);
h(id => 'H14', label => 'an adult without fiscal data (01 in both shipments)',
  m => [ [ '1982-07-07', "${A}10000.00", "${A}10000.00" ], [ '1985-08-08', '01', '01' ] ],
  expect => [ 'STOPSYST', '2024-12-31', undef,
	'E 5.1: "Il est également mis fin à ce droit au 31 décembre 2024 si, pour un ou plusieurs membres du ménage, aucune information n\'était disponible"' ]);
h(id => 'H15', label => 'a household no shipment answers',
  m => [ [ '1983-08-08', undef ], [ '1984-09-09', undef ] ],
  expect => [ 'STOPSYST', '2024-12-31', undef,
	'E 3.2: "aucune donnée fiscale ne sera transmise ... ménages pour lesquels les données relatives aux revenus sont incomplètes"; E 5.1' ]);
h(id => 'H16', label => 'an adult member the answer does not list',
  m => [ [ '1984-10-10', "${A}10000.00" ], [ '1986-11-11', undef ] ],
  expect => [ 'STOPSYST', '2024-12-31', undef, 'E 3.2, E 5.1 (no fiscal data for a member)' ]);
h(id => 'H17', label => 'a child under 18 the answer does not list',
  m => [ [ '1985-12-12', "${A}12000.00" ], [ '1987-01-13', "${A}9000.00" ], [ '2011-02-14', undef ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '21000.00',
	'E footnote 7: "Sauf si le membre du ménage pour lequel les revenus manquent ... est âgé de moins de 18 ans"; E 5.1' ]);
h(id => 'H18', label => 'a negative total',
  m => [ [ '1966-03-15', "${A}5000.00,1460=8000.00" ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '0.00', 'E 4.4: "revenu total négatif ... elle peut réduire ce revenu à 0,00 EUR"' ]);
h(id => 'H19', label => 'a negative member in a positive household (the total counts, not each member)',
  m => [ [ '1967-04-16', "${A}30000.00" ], [ '1968-05-17', '00:1460=4000.00' ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '26000.00', 'E 4.4: the household total; E 5.1' ]);
h(id => 'H20', label => 'five members (children 01 and 00) equal to the ceiling of 5',
  m => [ [ '1976-06-18', "${A}25000.00" ], [ '1977-07-19', "${A}15560.56" ], [ '2009-08-20', '01' ],
	[ '2016-09-21', '00' ], [ '2020-10-22', '01' ] ],
  expect => [ 'STOPSYST', '2024-12-31', '40560.56', 'E 4.2 (ceiling for 5 members), E 4.3, E 5.1' ]);

# --- shipment 2 (E 4.1, 4.3) ---
h(id => 'H21', label => 'August 03 for the spouse, October answers 00',
  m => [ [ '1970-01-23', "${A}12000.00", "${A}12000.00" ], [ '1971-02-24', '03', "${A}9000.00" ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '21000.00', 'E 4.1: "deuxième fichier en octobre" answers what August left open' ]);
h(id => 'H22', label => 'August 03, October still 10',
  m => [ [ '1972-03-25', "${A}10000.00", "${A}10000.00" ], [ '1973-04-26', '03', '10' ] ],
  expect => [ 'STOPSYST', '2024-12-31', undef,
	'E 4.3: "Si à ce moment-là, il n\'est toujours pas possible d\'obtenir un code retour 00 ... considérés comme étant inconnus"' ]);
h(id => 'H23', label => 'not in August, answered in October, under the ceiling',
  m => [ [ '1974-05-27', undef, "${A}10000.00" ], [ '1975-06-28', undef, "${A}8000.00" ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '18000.00', 'E 4.1' ]);
h(id => 'H24', label => 'not in August, answered in October, over the ceiling',
  m => [ [ '1976-07-29', undef, "${A}30000.00" ] ],
  expect => [ 'STOPSYST', '2024-12-31', '30000.00', 'E 4.1, E 5.1' ]);
h(id => 'H25', label => 'October repeats the requester and the member August left open, not the third member',
  m => [ [ '1960-08-30', "${A}15000.00", "${A}15000.00" ], [ '1962-09-01', '11', "${A}10000.00" ],
	[ '1999-10-02', "${A}3000.00", undef ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '28000.00', 'E 4.1, 4.3: October answers "les ménages pour lesquels [on] n\'a pas reçu de réponse"' ]);
h(id => 'H26', label => 'a child 03 in August, 00 with income in October',
  m => [ [ '1963-11-03', "${A}12000.00", "${A}12000.00" ], [ '1964-12-04', "${A}8000.00" ], [ '2010-01-05', '03', "${A}500.00" ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '20500.00', 'E 4.1, 4.3 (a known income of a minor counts)' ]);

# --- NISS changes (E 2.2, 2.4) ---
h(id => 'H27', label => 'the requester\'s NISS changed (bis -> new): Syst04 under the new one, request number keeps the old',
  m => [ [ '1962-03-03', "${A}14000.00", undef, bis => 1, new => 1 ], [ '1963-04-04', "${A}6000.00" ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '20000.00',
	'E 2.4: "c\'est ce numéro qui sera utilisé dans les échanges de données ultérieurs"; 2.2: "le numéro de demande reste le même"' ]);
h(id => 'H28', label => 'new NISS of the requester, answered only in October, over the ceiling',
  m => [ [ '1964-05-05', '03', "${A}26000.00", bis => 1, new => 1 ] ],
  expect => [ 'STOPSYST', '2024-12-31', '26000.00', 'E 2.4, 4.1, 5.1' ]);
h(id => 'H29', label => 'the NISS of a member (not the requester) changed: Syst04 answers under the new one',
  m => [ [ '1965-06-06', "${A}10000.00" ], [ '1966-07-07', "${A}9000.00", undef, bis => 1, new => 1 ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '19000.00',
	'E 2.4: "une des parties reçoit un numéro NISS modifié, c\'est ce numéro qui sera utilisé"; footnote 6: "Le NISS le plus récent est utilisé dans le processus"' ]);

# --- households another OA listed (E 2.3, 5.2) ---
h(id => 'H30', label => 'listed by OA 400, answered here in August (CIN filter)', oa => '400',
  m => [ [ '1988-01-13', "${A}5000.00" ], [ '1990-01-13', "${A}3000.00" ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '8000.00',
	'E 2.3: "C\'est l\'organisme assureur qui reçoit les données fiscales qui envoie aussi le feed-back"; 5.2 same request number' ]);
h(id => 'H31', label => 'listed by OA 500, answered here in October only, over the ceiling', oa => '500',
  m => [ [ '1989-02-14', undef, "${A}24000.00" ] ],
  expect => [ 'STOPSYST', '2024-12-31', '24000.00', 'E 2.3, 5.2, 5.1' ]);

# --- NISS with month/day 00 (R9) ---
h(id => 'H32', label => 'requester whose NISS has month and day 00 (born 1970)',
  m => [ [ '1970-00-00', "${A}15000.00" ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '15000.00', 'E 5.1 (age does not matter with 00)' ]);
h(id => 'H33', label => 'a child whose NISS gives only the year 2010, code 01',
  m => [ [ '1979-03-03', "${A}10000.00" ], [ '2010-00-00', '01' ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '10000.00', 'E 4.3: born in 2010, under 18 on 1 Jan 2023 whatever the day' ]);
h(id => 'H34', label => 'a member whose NISS gives only the year 2005, code 01',
  m => [ [ '1979-03-04', "${A}10000.00" ], [ '2005-00-00', '01' ] ],
  expect => [ 'STOPSYST', '2024-12-31', undef,
	'E 4.3 and footnote 7: the exception needs "moins de 18 ans", which born "in 2005" does not establish (18 if born on 1 Jan)' ]);
h(id => 'H35', label => 'a member whose NISS gives only the year 2004, code 01',
  m => [ [ '1979-03-05', "${A}10000.00" ], [ '2004-00-00', '01' ] ],
  expect => [ 'STOPSYST', '2024-12-31', undef, 'E 4.3 (18 or more on 1 Jan 2023), E 5.1' ]);
h(id => 'H36', label => 'a member born February 2005 (day 00), code 01',
  m => [ [ '1979-03-06', "${A}10000.00" ], [ '2005-02-00', '01' ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '10000.00', 'E 4.3: 17 on 1 Jan 2023 whatever the day' ]);
h(id => 'H37', label => 'a member born January 2005 (day 00), code 01',
  m => [ [ '1979-03-07', "${A}10000.00" ], [ '2005-01-00', '01' ] ],
  expect => [ 'STOPSYST', '2024-12-31', undef, 'E 4.3: 18 on 1 Jan 2023 if born on 1 January: not established under 18' ]);

# --- events (E 5.3) ---
# Under the ceiling: 10,000 + 5,000 for two; over: 20,000 + 10,000 (ceiling of 2: 27,618.02).
my @ok2 = ("${A}10000.00", "${A}5000.00");
my @nok2 = ("${A}20000.00", "${A}10000.00");
my $sec_fam = 'E 5.3: "au plus tard à la fin du trimestre suivant celui au cours duquel la modification a eu lieu"';
h(id => 'H40', label => 'composition change in Q1 2024, income under the ceiling',
  m => [ [ '1961-01-01', $ok2[0] ], [ '1961-02-02', $ok2[1] ] ],
  ev => [ [ 'composition_change', '2024-02-10', undef, 'the spouse left' ] ],
  expect => [ 'STOPFAM', '2024-06-30', '15000.00', "$sec_fam (art. 35)" ]);
h(id => 'H41', label => 'E 5.3 example 1: change in Q2 2024, ceiling exceeded',
  m => [ [ '1961-03-03', $nok2[0] ], [ '1961-04-04', $nok2[1] ] ],
  ev => [ [ 'composition_change', '2024-05-10', undef, 'a dependent left' ] ],
  expect => [ 'STOPFAM', '2024-09-30', '30000.00',
	'E 5.3 ex. 1: "Le droit à l\'I.M. prend fin le 30 septembre 2024" ... "l\'O.A. utilise le code STOPFAM"' ]);
h(id => 'H42', label => 'E 5.3 example 2: change in Q3 2024, ceiling exceeded (same end as STOPSYST)',
  m => [ [ '1961-05-05', $nok2[0] ], [ '1961-06-06', $nok2[1] ] ],
  ev => [ [ 'composition_change', '2024-08-20', undef, 'a dependent left' ] ],
  expect => [ 'STOPFAM', '2024-12-31', '30000.00',
	'E 5.3 ex. 2: "prend fin le 31 décembre 2024 ... le code STOPFAM"' ]);
h(id => 'H43', label => 'composition change in Q4 2024, income under the ceiling',
  m => [ [ '1961-07-07', $ok2[0] ], [ '1961-08-08', $ok2[1] ] ],
  ev => [ [ 'composition_change', '2024-11-05', undef, 'the spouse left' ] ],
  expect => [ 'STOPFAM', '2025-03-31', '15000.00', "$sec_fam" ]);
h(id => 'H44', label => 'composition change in Q4 2024, ceiling exceeded: the control ended the right first',
  m => [ [ '1961-09-09', $nok2[0] ], [ '1961-10-10', $nok2[1] ] ],
  ev => [ [ 'composition_change', '2024-11-05', undef, 'the spouse left' ] ],
  expect => [ 'STOPSYST', '2024-12-31', '30000.00',
	'E 5.3: "L\'O.A. communique toujours le ReasonCode qui a mis fin au droit à l\'I.M. en premier lieu" (31 Dec 2024 before 31 Mar 2025)' ]);
h(id => 'H45', label => 'E 5.3 example 3: change in Q1 2024, Syst_04 late (October) with the ceiling exceeded',
  m => [ [ '1961-11-11', undef, "${A}24000.00" ] ],
  ev => [ [ 'composition_change', '2024-01-15', undef, 'the spouse died' ] ],
  expect => [ 'STOPFAM', '2024-06-30', '24000.00',
	'E 5.3 ex. 3: "Comme il a déjà été mis fin au droit au 30 juin 2024, il convient d\'utiliser le code STOPFAM"' ]);
h(id => 'H46', label => 'composition change on the last day of Q3, income unknown',
  m => [ [ '1961-12-12', "${A}10000.00" ], [ '1962-01-13', '01' ] ],
  ev => [ [ 'composition_change', '2024-09-30', undef, 'a dependent left' ] ],
  expect => [ 'STOPFAM', '2024-12-31', undef, "$sec_fam; ex. 2 (same day as the control: STOPFAM)" ]);
h(id => 'H47', label => 'a child under 16 arrives (first registration), income under the ceiling',
  m => [ [ '1962-02-14', $ok2[0] ], [ '1962-03-15', $ok2[1] ] ],
  ev => [ [ 'child_under16_arrival', '2024-04-15', undef, 'a baby born' ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '15000.00',
	'E 5.3: "sauf si elle consiste en l\'arrivée dans le ménage d\'un enfant à charge de moins de 16 ans ... le droit ... lui est également octroyé"' ]);
h(id => 'H48', label => 'a child under 16 arrives, ceiling exceeded',
  m => [ [ '1962-04-16', $nok2[0] ], [ '1962-05-17', $nok2[1] ] ],
  ev => [ [ 'child_under16_arrival', '2024-04-15', undef, 'a baby born' ] ],
  expect => [ 'STOPSYST', '2024-12-31', '30000.00', 'E 5.3 (no STOPFAM), E 5.1' ]);
h(id => 'H49', label => 'death of a single member in July, income under the ceiling',
  m => [ [ '1940-06-18', "${A}12000.00" ] ],
  ev => [ [ 'death', '2024-07-12', undef, 'the member died' ] ],
  expect => [ 'STOPDEATH', '2024-07-12', '12000.00',
	'E 5.3 "cessation du droit pour cause de décès" (no date in the circular: README choice, the day of death)' ]);
h(id => 'H50', label => 'death in February 2025, ceiling exceeded: the control ended the right first',
  m => [ [ '1941-07-19', "${A}25000.00" ] ],
  ev => [ [ 'death', '2025-02-01', undef, 'the member died' ] ],
  expect => [ 'STOPSYST', '2024-12-31', '25000.00', 'E 5.3: "en premier lieu"' ]);
h(id => 'H51', label => 'ceiling exceeded, moved to another OA in November, after the fiscal data',
  m => [ [ '1962-06-18', $nok2[0] ], [ '1962-07-19', $nok2[1] ] ],
  ev => [ [ 'oa_change', '2024-11-01', undef, 'affiliated with OA 400' ] ],
  expect => [ 'STOPOA', '2024-10-31', '30000.00',
	'E 5.3: "le ménage, présentant un dépassement ..., s\'est affilié auprès d\'un autre organisme assureur"; 2.3 (date: README choice)' ]);
h(id => 'H52', label => 'moved to another OA in June, before the Syst_04: the CIN filter sends its data there',
  m => [ [ '1962-08-20', undef ], [ '1962-09-21', undef ] ],
  ev => [ [ 'oa_change', '2024-06-01', undef, 'affiliated with OA 400' ] ],
  expect => [ 'ABSENT', '', undef,
	'E 2.3: "Le filtre CIN permet ... de transmettre les enregistrements ... à l\'organisme assureur actuel"; "C\'est l\'organisme assureur qui reçoit les données fiscales qui envoie aussi le feed-back"; 5.2' ]);
h(id => 'H53', label => 'additional fiscal data bring the income to the ceiling',
  m => [ [ '1963-10-22', "${A}20000.00" ] ],
  ev => [ [ 'extra_fiscal_data', '2024-09-15', '3303.84', 'foreign pension' ] ],
  expect => [ 'STOPFISC', '2024-12-31', '20000.00',
	'E 5.3 "cessation du droit suite à des données fiscales complémentaires"; 4.4 "ajouter les revenus étrangers" (date: README choice)' ]);
h(id => 'H54', label => 'additional fiscal data leave the income one cent under the ceiling',
  m => [ [ '1963-11-23', "${A}20000.00" ] ],
  ev => [ [ 'extra_fiscal_data', '2024-09-15', '3303.83', 'alimony' ] ],
  expect => [ 'KEEPSYST', '2025-12-31', '20000.00', 'E 4.4, 5.1' ]);
h(id => 'H55', label => 'a social advantage, ceiling exceeded',
  m => [ [ '1963-12-24', "${A}30000.00" ] ],
  ev => [ [ 'social_advantage', '2024-03-01', undef, 'GRAPA' ] ],
  expect => [ 'KEEPADV', '2025-12-31', '30000.00',
	'E 5.3 "maintien du droit grâce au bénéfice d\'un avantage social" (date: README choice)' ]);
h(id => 'H56', label => 'a social advantage, income unknown',
  m => [ [ '1964-01-25', "${A}10000.00" ], [ '1964-02-26', '01' ] ],
  ev => [ [ 'social_advantage', '2024-06-01', undef, 'integration income' ] ],
  expect => [ 'KEEPADV', '2025-12-31', undef, 'E 5.3 (date: README choice)' ]);
h(id => 'H57', label => 'new DSH on 1 October 2024 (first day of the window), ceiling exceeded',
  m => [ [ '1964-03-27', "${A}30000.00" ] ],
  ev => [ [ 'new_dsh', '2024-10-01', undef, 'DSH complete' ] ],
  expect => [ 'KEEPDSH', '2025-12-31', '30000.00',
	'E 5.1: "si la nouvelle déclaration sur l\'honneur est introduite entre le 1er octobre 2024 et avant le 1er avril 2025"; 5.3 (date: README choice)' ]);
h(id => 'H58', label => 'new DSH on 31 March 2025 (last day of the window), income unknown',
  m => [ [ '1964-04-28', "${A}10000.00" ], [ '1964-05-29', '01' ] ],
  ev => [ [ 'new_dsh', '2025-03-31', undef, 'DSH complete' ] ],
  expect => [ 'KEEPDSH', '2025-12-31', undef,
	'E 5.3: "ou en l\'absence de données fiscales pour tous les membres"; 5.1 window' ]);
h(id => 'H59', label => 'new DSH on 30 September 2024 (the day before the window), ceiling exceeded',
  m => [ [ '1964-06-30', "${A}30000.00" ] ],
  ev => [ [ 'new_dsh', '2024-09-30', undef, 'DSH complete' ] ],
  expect => [ 'STOPSYST', '2024-12-31', '30000.00', 'E 5.1 window starts 1 Oct 2024' ]);
h(id => 'H60', label => 'new DSH on 1 April 2025 (the day after the window), ceiling exceeded',
  m => [ [ '1964-07-31', "${A}30000.00" ] ],
  ev => [ [ 'new_dsh', '2025-04-01', undef, 'DSH complete' ] ],
  expect => [ 'STOPSYST', '2024-12-31', '30000.00', 'E 5.1: "avant le 1er avril 2025"' ]);
h(id => 'H61', label => 'additional fiscal data without an amount',
  m => [ [ '1964-08-01', "${A}15000.00" ] ],
  ev => [ [ 'extra_fiscal_data', '2024-10-10', undef, 'foreign income, not yet quantified' ] ],
  expect => [ 'STOPFISC', '2024-12-31', '15000.00', 'E 5.3 (README: an event without amount ends the right)' ]);
h(id => 'H62', label => 'composition change in Q2, then the death of the remaining member in August',
  m => [ [ '1938-09-02', $ok2[0] ], [ '1939-10-03', $ok2[1] ] ],
  ev => [ [ 'composition_change', '2024-05-10', undef, 'the spouse moved to a care home' ],
	[ 'death', '2024-08-15', undef, 'the requester died' ] ],
  expect => [ 'STOPDEATH', '2024-08-15', '15000.00',
	'E 5.3: "le ReasonCode qui a mis fin au droit ... en premier lieu" (15 Aug before 30 Sep)' ]);
h(id => 'H63', label => 'income under the ceiling, moved to another OA in December',
  m => [ [ '1965-11-04', $ok2[0] ], [ '1965-12-05', $ok2[1] ] ],
  ev => [ [ 'oa_change', '2024-12-01', undef, 'affiliated with OA 500' ] ],
  expect => [ 'STOPOA', '2024-11-30', '15000.00',
	'E 2.3: "Le cas échéant, il est précisé dans le fichier de feed-back qu\'il est mis fin au droit ... en raison d\'une mutation" (date: README choice)' ]);
h(id => 'H64', label => 'ceiling exceeded, moved to another OA in February 2025 without a DSH there',
  m => [ [ '1966-01-06', "${A}30000.00" ] ],
  ev => [ [ 'oa_change', '2025-02-01', undef, 'affiliated with OA 400' ] ],
  expect => [ 'STOPOA', '*', '30000.00',
	'E 5.3 "Fin de l\'examen ...": "le ménage, présentant un dépassement sur base du contrôle systématique, s\'est affilié auprès d\'un autre organisme assureur sans avoir introduit de DSH"' ]);

h(id => 'H65', label => 'a change in Q4 2023, before the control year, income under the ceiling',
  m => [ [ '1966-02-07', $ok2[0] ], [ '1966-03-08', $ok2[1] ] ],
  ev => [ [ 'composition_change', '2023-11-10', undef, 'the spouse left' ] ],
  expect => [ 'STOPFAM', '2024-03-31', '15000.00', "$sec_fam" ]);
h(id => 'H66', label => 'a social advantage and additional fiscal data over the ceiling',
  m => [ [ '1966-04-09', "${A}20000.00" ] ],
  ev => [ [ 'extra_fiscal_data', '2024-05-20', '5000.00', 'foreign income' ],
	[ 'social_advantage', '2024-06-01', undef, 'increased child benefit' ] ],
  expect => [ 'KEEPADV', '2025-12-31', '20000.00', 'E 5.3 "maintien du droit grâce au bénéfice d\'un avantage social" (date: README choice)' ]);

# ---------------------------------------------------------------------------------------
# NISS of every member; request numbers.
for my $h (@H)
{
	for my $m (@{ $h->{m} })
	{
		my ($born, $s1, $s2, %o) = @$m;
		my $n = niss($born, bis => ($o{bis} ? 20 : 0));
		my $new = $o{new} ? niss($born) : $n;    # E 2.4: the new NISS, a regular one
		push @{ $h->{members} }, { born => $born, niss => $n, answer_niss => $new, s => [ $s1, $s2 ] };
	}
	$h->{oa} //= $OA;
	$h->{requester} = $h->{members}[0];
	$h->{rn} = $h->{oa} . $YEAR . $h->{requester}{niss};
}

# ---------------------------------------------------------------------------------------
# Writing.
sub write_file
{
	my ($name, $text) = @_;
	open(my $fh, '>', "$out/$name") or die "cannot write $out/$name: $!\n";
	print $fh $text;
	close($fh) or die "cannot write $out/$name: $!\n";
}

sub member_income
{
	my ($answer) = @_;
	my (undef, $items) = split /:/, $answer, 2;
	my %f = map { $_->[0] => $_->[1] } @ipcal;
	my $cents = 0;
	for (split /,/, $items // '')
	{
		my ($code, $amount) = split /=/;
		# cents x factor: the factors here give whole cents (or are 0.1 on multiples of 10 cents)
		$cents += sprintf('%.0f', $amount * 100) * $f{$code};
	}
	return $cents;
}

# Syst_01: the households OA 300 lists.
my $x = qq{<?xml version="1.0" encoding="UTF-8"?>\n<Syst01 xmlns="urn:be:inami:flows:1" controlYear="$YEAR" oa="$OA">\n};
for my $h (grep { $_->{oa} eq $OA } @H)
{
	my $label = $h->{label} =~ s/-{2,}/-/gr;
	$x .= qq{  <!-- $h->{id}: $label -->\n};
	$x .= qq{  <Household requestNumber="$h->{rn}">\n    <Requester niss="$h->{requester}{niss}"/>\n};
	$x .= qq{    <Member niss="$_->{niss}"/>\n} for @{ $h->{members} };
	$x .= qq{  </Household>\n};
}
$x .= "</Syst01>\n";
write_file('syst01.xml', $x);

# Syst_04, one file per shipment.
for my $ship (1, 2)
{
	my $x = qq{<?xml version="1.0" encoding="UTF-8"?>\n}
	  . qq{<Syst04 xmlns="urn:be:inami:flows:1" controlYear="$YEAR" incomeYear="$INCOME_YEAR" shipment="$ship">\n};
	for my $h (@H)
	{
		my @listed = grep { defined $_->{s}[ $ship - 1 ] } @{ $h->{members} };
		next unless @listed;
		die "$h->{id}: shipment $ship must list the requester\n" unless defined $h->{requester}{s}[ $ship - 1 ];
		# HouseholdTotal only when every member's latest answer so far is 00 (E 4.3)
		my ($all, $total) = (1, 0);
		for my $m (@{ $h->{members} })
		{
			my ($latest) = grep { defined } reverse @{ $m->{s} }[ 0 .. $ship - 1 ];
			if (defined $latest && $latest =~ /^00/) { $total += member_income($latest) }
			else { $all = 0 }
		}
		$x .= qq{  <Household requestNumber="$h->{rn}">\n    <Requester niss="$h->{requester}{answer_niss}"/>\n};
		$x .= sprintf("    <HouseholdTotal>%.2f</HouseholdTotal>\n", $total / 100) if $all;
		my $k = 0;
		for my $m (@listed)
		{
			my ($rc, $items) = split /:/, $m->{s}[ $ship - 1 ], 2;
			if ($rc ne '00')
			{
				$x .= qq{    <Member niss="$m->{answer_niss}" returnCode="$rc"/>\n};
				next;
			}
			$x .= qq{    <Member niss="$m->{answer_niss}" returnCode="00">\n};
			$x .= sprintf("      <TaxSheet>%010d</TaxSheet>\n", 4711000 + $k) if $k++ % 2 == 0;
			for (split /,/, $items // '')
			{
				my ($code, $amount) = split /=/;
				$x .= qq{      <Ipcal code="$code" amount="$amount"/>\n};
			}
			$x .= "      <CadastralIncome>0.00</CadastralIncome>\n" if $k % 3 == 0;
			$x .= sprintf("      <PersonalTotal>%.2f</PersonalTotal>\n", member_income($m->{s}[ $ship - 1 ]) / 100);
			$x .= "    </Member>\n";
		}
		$x .= "  </Household>\n";
	}
	$x .= "</Syst04>\n";
	write_file("syst04_$ship.xml", $x);
}

# IPCAL factors.
my $sql = "-- IPCAL factors of tax year 2023 used by the scenario (make-scenario.pl)\n"
  . "INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES\n"
  . join(",\n", map { "    (2023, '$_->[0]', $_->[1], '$_->[2]', 'test: control year scenario')" } @ipcal) . ";\n";
write_file('ipcal.sql', $sql);

# Events.
sub sqlq { my ($v) = @_; defined $v ? "'" . ($v =~ s/'/''/gr) . "'" : 'NULL' }
$sql = "-- The OA's household events of the scenario (make-scenario.pl)\n"
  . "INSERT INTO inami.household_event (request_number, event, event_date, amount, detail) VALUES\n";
my @rows;
for my $h (@H)
{
	for my $e (@{ $h->{ev} // [] })
	{
		my ($event, $date, $amount, $detail) = @$e;
		push @rows, sprintf("    (%s, %s, %s, %s, %s)", sqlq($h->{rn}), sqlq($event), sqlq($date),
			defined $amount ? $amount : 'NULL', sqlq("$h->{id}: $detail"));
	}
}
$sql .= join(",\n", @rows) . ";\n";
write_file('events.sql', $sql);

# Expected outcomes.
sub csv { my ($v) = @_; $v //= ''; $v =~ /[",\n]/ ? '"' . ($v =~ s/"/""/gr) . '"' : $v }
my $csv = "household,request_number,oa,size,reason,right_end,household_income,label,basis\n";
for my $h (@H)
{
	my ($reason, $end, $income, $basis) = @{ $h->{expect} };
	$csv .= join(',', map { csv($_) } $h->{id}, $h->{rn}, $h->{oa}, scalar @{ $h->{members} }, $reason, $end,
		$income // 'unknown', $h->{label}, $basis) . "\n";
}
write_file('expected.csv', $csv);
printf "%d households (%d listed by OA %s), %d events, in %s\n", scalar @H,
  scalar(grep { $_->{oa} eq $OA } @H), $OA, scalar @rows, $out;
