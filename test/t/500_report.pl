# The report of a control year as a person looks at it. Two control years of OA 300 are
# made from files in the published format: 2024 by test/data/scenario/make-scenario.pl
# (every reason), 2025 by bench/gen_flows.pl (shipment 1 only, so provisional households
# of each kind) with household events; and the proactive flows of both years (Pro_01 and
# Pro_03 by gen_flows.pl) with G outcomes. tools/report.sh writes the report of 2025; the
# test checks that every figure in it equals the count it claims, counted here from the
# tables (and explain_decision, proactive_statistics), that each chart has a bar per
# figure that is not zero, then renders the page in headless Chromium and finds on the
# screenshot every bar of every chart, at its height.
use strict;
use warnings;
use FindBin;
use IPC::Run qw(run);
use List::Util qw(max);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$FindBin::Bin/../..";
my ($Y, $OA) = (2025, '300');
my $P = $Y - 1;
my $dir = PostgreSQL::Test::Utils::tempdir();

sub run_ok
{
	my ($cmd, $name) = @_;
	my ($out, $err) = ('', '');
	my $ok = run($cmd, '>', \$out, '2>', \$err);
	ok($ok, $name) or diag($err);
	return ($ok, $out, $err);
}

# The files.
run_ok([ $^X, "$root/test/data/scenario/make-scenario.pl", '--out', $dir ], 'make-scenario.pl writes control year 2024');
my $gen = "$root/bench/gen_flows.pl";
for my $f ([ "syst01_$Y", qw(--kind syst01 --households 300 --seed 7), '--year', $Y ],
	[ "syst04_${Y}_1", qw(--kind syst04 --households 300 --seed 7 --shipment 1), '--year', $Y ],
	(map { ([ "pro01_$_", qw(--kind pro01 --households 200), '--seed', $_, '--year', $_ ],
			[ "pro03_$_", qw(--kind pro03 --households 200 --shipment 1), '--seed', $_, '--year', $_ ]) } ($P, $Y)))
{
	my ($name, @args) = @$f;
	run_ok([ $^X, $gen, @args, '--out', "$dir/$name.xml" ], "gen_flows.pl writes $name.xml");
}

my $node = PostgreSQL::Test::Cluster->new('report');
$node->init;
$node->start;
my $sql = sub { $node->safe_psql('postgres', $_[0]) };
$sql->('CREATE EXTENSION inami');
$sql->(slurp_file("$dir/ipcal.sql"));
$sql->(qq{
	SELECT inami.load_flow_file('$dir/syst01.xml');
	SELECT inami.load_flow_file('$dir/syst04_1.xml');
	SELECT inami.load_flow_file('$dir/syst04_2.xml');
	SELECT inami.adopt_unlisted_households($P, '$OA');
});
$sql->(slurp_file("$dir/events.sql"));
$sql->("CALL inami.run_systematic_control($P)");
# Year 2025: the IPCAL codes the generator writes (tax years 2023 and 2024: the proactive
# flow of 2025 reads 2023's incomes too), the ceiling of income year 2023 (none ships), and
# events that give every reason.
$sql->(qq{
	INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source)
	SELECT t, c, CASE c WHEN '1460' THEN -1 ELSE 1 END, 'test: counted as is', 'test row, not the official IPCAL list'
	FROM unnest(ARRAY[2023, 2024]) AS t, unnest(ARRAY['1250', '1251', '1460', '1650', '2250', '1286']) AS c
	ON CONFLICT DO NOTHING;
	INSERT INTO inami.im_ceiling (income_year, base, per_member, source)
	VALUES (2023, 23303.84, 4314.18, 'test: the 2022 figures reused');
	SELECT inami.load_flow_file('$dir/syst01_$Y.xml');
	SELECT inami.load_flow_file('$dir/syst04_${Y}_1.xml');
	INSERT INTO inami.household_event (control_year, request_number, event, event_date, detail)
	SELECT $Y, h.request_number, e.event, e.day, 'test event'
	FROM (SELECT request_number, row_number() OVER (ORDER BY request_number) AS n
	      FROM inami.syst01_household WHERE control_year = $Y) h
	CROSS JOIN LATERAL (VALUES
	    (1, 'composition_change', make_date($Y, 1 + (h.n / 25)::int % 12, 10)),
	    (2, 'death', make_date($Y, 1 + (h.n / 25)::int % 12, 20)),
	    (3, 'oa_change', make_date($Y, 6 + (h.n / 25)::int % 6, 1)),
	    (4, 'extra_fiscal_data', make_date($Y, 9, 1)),
	    (5, 'social_advantage', make_date($Y, 3, 1)),
	    (6, 'new_dsh', make_date($Y, 11, 15))) AS e(k, event, day)
	WHERE h.n % 25 = e.k;
});
$sql->("CALL inami.run_systematic_control($Y)");
for my $y ($P, $Y)
{
	$sql->("SELECT inami.load_flow_file('$dir/pro01_$y.xml')");
	$sql->("SELECT inami.load_flow_file('$dir/pro03_$y.xml')");
	$sql->("CALL inami.run_proactive_flow($y)");
}
# G: an outcome for nine OK households in ten, every person of the household in the
# category its rank gives (1 and 2 are never contacted).
$sql->(q{
	INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
	SELECT m.year, m.request_number, m.niss, c.category, c.category >= 3
	FROM (SELECT d.year, d.request_number, row_number() OVER (PARTITION BY d.year ORDER BY d.request_number) AS n
	      FROM inami.proactive_decision d WHERE d.code = 'OK') h
	CROSS JOIN LATERAL (SELECT 1 + ((h.n * 7 + h.year) % 6)::int AS category) c
	JOIN inami.pro01_member m ON m.year = h.year AND m.request_number = h.request_number
	WHERE h.n % 10 <> 0;
});
is($sql->("SELECT string_agg(DISTINCT reason, ' ' ORDER BY reason) FROM inami.control_decision WHERE control_year = $Y"),
	'KEEPADV KEEPDSH KEEPSYST STOPDEATH STOPFAM STOPFISC STOPOA STOPSYST', "control year $Y has every reason");

# The report.
my $conn = sprintf('host=%s port=%s dbname=postgres', $node->host, $node->port);
my $file = "$dir/report_$Y.html";
my (undef, $printed) = run_ok([ 'bash', "$root/tools/report.sh", $Y, $OA, '--out', $file, '--dbname', $conn ],
	"tools/report.sh $Y $OA writes the report");
is($printed, "$file\n", 'it prints the path of the file');
my $html = slurp_file($file);

# Self-contained: nothing is fetched when the file is opened.
my @refs = $html =~ /(?:\bsrc\s*=|\bhref\s*=|url\(|\@import)\s*["']?([^"')\s>]*)/gi;
is(join(' ', grep { !/^#/ } @refs), '', 'every reference in the file is to the file itself (no network, no other file)');
unlike($html, qr/<script/i, 'no script');
like($html, qr/\@page \{ size: A4/, 'a print style for A4');

# Every figure: chart|key|current, previous or change, shown as its data-value.
my (%got, %order, @misshown);
while ($html =~ /<td class="n" data-figure="([^"|]+)\|([^"|]+)\|([a-z]+)" data-value="(-?\d+)">([^<]*)<\/td>/g)
{
	my ($chart, $key, $which, $value, $shown) = ($1, $2, $3, $4, $5);
	$shown =~ s/\xe2\x80\xaf//g;    # the narrow no-break space between thousands
	$shown =~ s/^\+//;
	push @misshown, "$chart $key $which: $shown, not $value" if $shown ne $value;
	$got{$chart}{"$key $which"} = $value;
	push @{ $order{$chart} }, $key if $which eq 'current';
}

cmp_ok(scalar(keys %got), '>=', 10, 'the report has figures of ten tables');
is(join('; ', @misshown), '', 'every figure is shown as the number its data-value says');

# What each figure claims, counted from the tables.
my %want;
sub want_rows
{
	my ($chart, $query) = @_;
	for (split /\n/, $sql->($query))
	{
		my ($key, $cur, $prev) = split /\|/;
		$want{$chart}{"$key current"} = $cur;
		$want{$chart}{"$key previous"} = $prev;
		$want{$chart}{"$key change"} = $cur - $prev;
	}
}
my $d = "inami.control_decision d WHERE d.oa = '$OA'";
want_rows('headline', qq{
	SELECT k, count(*) FILTER (WHERE d.control_year = $Y AND f), count(*) FILTER (WHERE d.control_year = $P AND f)
	FROM inami.control_decision d,
	     LATERAL (VALUES ('households', true), ('keeping', d.reason IN ('KEEPSYST', 'KEEPADV', 'KEEPDSH')),
	                     ('stopping', d.reason NOT IN ('KEEPSYST', 'KEEPADV', 'KEEPDSH')),
	                     ('provisional', d.provisional), ('feedback_elsewhere', NOT d.sends_feedback)) AS v(k, f)
	WHERE d.oa = '$OA'
	GROUP BY k});
want_rows('reason', qq{
	SELECT r, (SELECT count(*) FROM $d AND d.control_year = $Y AND d.reason = r),
	          (SELECT count(*) FROM $d AND d.control_year = $P AND d.reason = r)
	FROM unnest('{KEEPSYST,KEEPADV,KEEPDSH,STOPSYST,STOPFISC,STOPFAM,STOPDEATH,STOPOA}'::text[]) AS r});
want_rows('month', qq{
	SELECT m, (SELECT count(*) FROM $d AND d.control_year = $Y AND d.right_end >= m AND d.right_end < m + interval '1 month'),
	          (SELECT count(*) FROM $d AND d.control_year = $P
	             AND d.right_end >= m - interval '1 year' AND d.right_end < m - interval '11 months')
	FROM (SELECT DISTINCT make_date(extract(year FROM d.right_end)::int + $Y - d.control_year, extract(month FROM d.right_end)::int, 1) AS m
	      FROM $d AND d.control_year IN ($Y, $P)) x});
want_rows('verdict', qq{
	SELECT coalesce(v, 'none'), (SELECT count(*) FROM $d AND d.control_year = $Y AND d.verdict IS NOT DISTINCT FROM v),
	          (SELECT count(*) FROM $d AND d.control_year = $P AND d.verdict IS NOT DISTINCT FROM v)
	FROM (SELECT unnest('{OK,NOK,ONHOLD}'::text[]) UNION SELECT d.verdict FROM $d AND d.control_year IN ($Y, $P)) AS x(v)});
want_rows('size', qq{
	SELECT s, (SELECT count(*) FROM $d AND d.control_year = $Y AND d.household_size = s),
	          (SELECT count(*) FROM $d AND d.control_year = $P AND d.household_size = s)
	FROM (SELECT DISTINCT d.household_size FROM $d AND d.control_year IN ($Y, $P)) AS x(s)});
# What a provisional decision waits for, as explain_decision says it.
my $explained = qq{
	SELECT d.control_year, CASE WHEN e.value LIKE 'a later Syst_04 shipment has been loaded since%' THEN 'new_run'
	                            WHEN e.value LIKE 'no shipment has answered the household yet%' THEN 'no_answer'
	                            WHEN e.value LIKE 'a member answered in shipment 1 with%' THEN 'asked_again'
	                            WHEN e.value LIKE 'the Syst_04 sent a cadastral income%' THEN 'cadastral_income' END AS w
	FROM inami.control_decision d, LATERAL inami.explain_decision(d.request_number, d.control_year) e
	WHERE d.oa = '$OA' AND d.provisional AND d.control_year IN ($Y, $P) AND e.what = 'provisional'};
is($sql->("SELECT count(*) FROM ($explained) x WHERE w IS NOT NULL"),
	$sql->("SELECT count(*) FROM $d AND d.provisional AND d.control_year IN ($Y, $P)"),
	'explain_decision gives each provisional decision one thing it waits for');
want_rows('provisional', qq{
	SELECT w, (SELECT count(*) FROM ($explained) x WHERE x.w = k.w AND x.control_year = $Y),
	          (SELECT count(*) FROM ($explained) x WHERE x.w = k.w AND x.control_year = $P)
	FROM unnest('{no_answer,asked_again,new_run,cadastral_income}'::text[]) AS k(w)});
cmp_ok($want{provisional}{"$_ current"}, '>', 0, "control year $Y has provisional decisions waiting for $_")
  for qw(no_answer asked_again cadastral_income);
# G: tables 1-3 as inami.proactive_statistics computes them.
my $g = sub {
	my ($table, $column) = @_;
	return qq{
		SELECT coalesce(c.category::text, k.short), c.$column, coalesce(p.$column, 0)
		FROM inami.proactive_statistics($Y) AS c
		JOIN inami.proactive_statistics($P) AS p
		  ON p.report_table = c.report_table AND p.label = c.label AND p.category IS NOT DISTINCT FROM c.category
		LEFT JOIN (VALUES ('OK households (Pro_04)', 'OK'), ('households actually contacted', 'contacted'),
		                  ('of which opened the right (categories 5 and 6)', 'opened')) AS k(label, short)
		       ON c.category IS NULL AND k.label = c.label
		WHERE c.report_table = $table};
};
want_rows('g1', $g->(1, 'households'));
want_rows('g1p', $g->(1, 'persons'));
want_rows('g2', $g->(2, 'households'));
want_rows('g3', $g->(3, 'persons'));
# ... and table 1's first row and table 3's sum against the tables themselves.
is($want{g1}{'OK current'}, $sql->("SELECT count(*) FROM inami.proactive_decision WHERE year = $Y AND code = 'OK'"),
	'G table 1: the OK households are the Pro_04 codes OK');
is((eval { my $s = 0; $s += $want{g3}{"$_ current"} for 1 .. 6; $s }),
	$sql->("SELECT count(*) FROM inami.proactive_outcome WHERE year = $Y"), 'G table 3: every person with an outcome once');

for my $chart (qw(headline reason month verdict size provisional g1 g1p g2 g3))
{
	is_deeply($got{$chart}, $want{$chart}, "$chart: every figure of the report equals its SQL count");
}

# Each chart: one bar per figure that is not zero, this year's and the year before's.
my %colour;
while ($html =~ /<section class="chart" id="([^"]+)" data-chart="[^"]+" data-colour-current="(#[0-9a-f]{6})" data-colour-previous="(#[0-9a-f]{6})">/g)
{
	$colour{$1} = [ $2, $3 ];
}
my @charts = qw(reason month verdict size provisional g1 g2 g3);
is(join(' ', sort keys %colour), join(' ', sort @charts), 'a chart for each: reason, month, verdict, size, provisional, G tables 1-3');
my %values;    # chart -> [current values], [previous values], in the order of the chart
for my $chart (@charts)
{
	for my $which (qw(current previous))
	{
		my @v = map { $got{$chart}{"$_ $which"} } @{ $order{$chart} };
		push @{ $values{$chart} }, \@v;
		my $drawn = () = $html =~ /<g id="bar-$chart-$which-\d+"/g;
		is($drawn, scalar(grep { $_ } @v), "$chart: the SVG has a bar per $which figure that is not zero");
	}
}

# As a person sees it: the page in headless Chromium, and the bars found on the screenshot.
my $shot = "$dir/report.png";
run_ok([ 'chromium', '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync',
		"--user-data-dir=$dir/chromium", '--hide-scrollbars', '--window-size=1200,5000',
		"--screenshot=$shot", "file://$file" ], 'headless Chromium renders the report');
ok(-s $shot, 'the screenshot is written');
my (undef, $found) = run_ok([ '/usr/bin/python3', "$root/test/lib/chart_bars.py", $shot,
		map { ("$_.current=$colour{$_}[0]", "$_.previous=$colour{$_}[1]") } @charts ],
	'test/lib/chart_bars.py reads the screenshot');
my %bars = map { my ($name, $n, @h) = split / /; ($name => \@h) } split /\n/, $found;
for my $chart (@charts)
{
	my ($cur, $prev) = @{ $values{$chart} };
	my $vmax = max(@$cur, @$prev);
	my $hmax = max(@{ $bars{"$chart.current"} }, @{ $bars{"$chart.previous"} }, 0);
	ok($hmax > 20, "$chart: drawn (its tallest bar is $hmax pixels high)");
	for ([ current => $cur ], [ previous => $prev ])
	{
		my ($which, $v) = @$_;
		my @want = grep { $_ } @$v;
		my @h = @{ $bars{"$chart.$which"} };
		is(scalar @h, scalar @want, "$chart: the screenshot shows " . scalar(@want) . " $which bars");
		# each at its height: the figure over the largest, times the tallest bar (a
		# figure too small to see is drawn a few pixels high)
		my @off = grep { abs($h[$_] - $want[$_] / $vmax * $hmax) > 3 } grep { $_ < @h } 0 .. $#want;
		is(scalar @off, 0, "$chart: every $which bar at its height")
		  or diag("heights @h for figures @want");
	}
}

# Once the October shipment is loaded, the households that waited for it wait for a new
# run.
run_ok([ $^X, $gen, qw(--kind syst04 --households 300 --seed 7 --shipment 2), '--year', $Y, '--out', "$dir/syst04_${Y}_2.xml" ],
	"gen_flows.pl writes syst04_${Y}_2.xml");
$sql->("SELECT inami.load_flow_file('$dir/syst04_${Y}_2.xml')");
is($sql->("SELECT waiting_for || ' ' || households FROM inami.report_provisional WHERE control_year = $Y AND oa = '$OA' AND waiting_for = 'new_run'"),
	'new_run ' . ($want{provisional}{'no_answer current'} + $want{provisional}{'asked_again current'}),
	'after the October shipment, those that waited for it wait for a new run');
is($sql->("SELECT households FROM inami.report_provisional WHERE control_year = $Y AND oa = '$OA' AND waiting_for = 'cadastral_income'"),
	$want{provisional}{'cadastral_income current'}, '... and those that wait for an assessment still do');

# A year without a year before: the previous figures are 0 and no bar stands for them.
my $file24 = "$dir/report_$P.html";
run_ok([ 'bash', "$root/tools/report.sh", $P, $OA, '--out', $file24, '--dbname', $conn ], "tools/report.sh $P $OA");
my $html24 = slurp_file($file24);
like($html24, qr/data-figure="headline\|households\|current" data-value="64"/, "$P: 64 households decided");
like($html24, qr/data-figure="headline\|households\|previous" data-value="0"/, "$P: none the year before");
unlike($html24, qr/<g id="bar-[a-z0-9]+-previous-/, "$P: no bar for the year before");

# Errors: a year without decisions, an OA that is not one.
my ($ok, $out, $err) = ('', '', '');
$ok = run([ 'bash', "$root/tools/report.sh", 2023, $OA, '--out', "$dir/none.html", '--dbname', $conn ], '>', \$out, '2>', \$err);
ok(!$ok, 'a control year without decisions: the report fails');
like($err, qr/no decision for control year 2023 and OA 300 \(control years and OAs with decisions: 2024 300, 2025 300\)/,
	'... and says which years it has');
ok(!-e "$dir/none.html", '... writing nothing');
$ok = run([ 'bash', "$root/tools/report.sh", $Y, '3x', '--dbname', $conn ], '>', \$out, '2>', \$err);
ok(!$ok && $err =~ /OA must be three digits/, 'an OA that is not three digits is refused');

# A reporting role: the views run with its rights (security_invoker), so it needs the
# level that reads the tables behind them, as doc/reports.md grants it.
$sql->(q{
	CREATE ROLE bi_reader LOGIN;
	GRANT inami_analyst TO bi_reader;
});
my $bi = "$conn user=bi_reader";
run_ok([ 'bash', "$root/tools/report.sh", $Y, $OA, '--out', "$dir/bi.html", '--dbname', $bi ],
	'a role with the level doc/reports.md grants writes the report');
run_ok([ 'bash', "$root/tools/report.sh", $Y, $OA, '--out', "$dir/owner.html", '--dbname', $conn ], '... and so does the owner');
is((-e "$dir/bi.html" ? slurp_file("$dir/bi.html") : '') =~ s/Written [^<]* from/Written from/r,
	slurp_file("$dir/owner.html") =~ s/Written [^<]* from/Written from/r, '... the same report');
$sql->('REVOKE inami_analyst FROM bi_reader');
$ok = run([ 'bash', "$root/tools/report.sh", $Y, $OA, '--out', "$dir/bi2.html", '--dbname', $bi ], '>', \$out, '2>', \$err);
ok(!$ok && $err =~ /permission denied for / && !-e "$dir/bi2.html",
	'without the level: permission denied, nothing written');

$node->stop;
done_testing();
