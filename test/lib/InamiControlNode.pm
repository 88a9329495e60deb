# A throwaway node for the control-run TAP tests: the extension and two Syst_01 households
# of control year 2024 (OA 300), each with its requester as only member.
package InamiControlNode;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;

# new(NAME): the node, started.
sub new
{
	my ($class, $name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->start;
	$node->safe_psql('postgres', q{
    CREATE EXTENSION inami;
    INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES ('Syst01', 2024, '300', 'test', 2);
    INSERT INTO inami.syst01_household
    SELECT 2024, inami.request_number('300', 2024, n), '300', n, (SELECT max(file_id) FROM inami.flow_file)
    FROM unnest(ARRAY['85073003328', '05010100113']) AS n;
    INSERT INTO inami.syst01_member SELECT control_year, request_number, requester_niss FROM inami.syst01_household;
	});
	return $node;
}

1;
