/*
 * flow2csv.c
 *		The floor of the loading benchmark: the "xmllint --stream" way of loading a Syst04
 *		file, outside the server. libxml2's xmlTextReader walks the file (streamed, as
 *		xmllint --stream does) and writes two CSV files for COPY: households, and members
 *		with their IPCAL items as two array literals. No checks at all (no NISS, no
 *		request number, no amounts parsing): the least any loader must do.
 *
 *	cc -O2 -o flow2csv bench/flow2csv.c $(xml2-config --cflags --libs)
 *	./flow2csv file.xml households.csv members.csv file_id
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>

/* The value of attribute name of the current element, or "". */
static const char *
attr(xmlTextReaderPtr r, const char *name, char *buf, size_t size)
{
	xmlChar    *v = xmlTextReaderGetAttribute(r, (const xmlChar *) name);

	snprintf(buf, size, "%s", v ? (const char *) v : "");
	xmlFree(v);
	return buf;
}

int
main(int argc, char **argv)
{
	xmlTextReaderPtr r;
	FILE	   *hh,
			   *mb;
	char		req[64] = "",
				requester[64] = "",
				total[64] = "",
				niss[64] = "",
				rc[8] = "",
				tax[80] = "",
				ci[64] = "",
				pt[64] = "",
				b1[64],
				b2[64];
	char		text[128] = "";
	char		codes[4096] = "",
				amounts[8192] = "";
	size_t		ncodes = 0,
				namounts = 0;
	int			ret;
	int			year = 0,
				shipment = 0;

	if (argc != 5)
	{
		fprintf(stderr, "usage: flow2csv file.xml households.csv members.csv file_id\n");
		return 2;
	}
	r = xmlReaderForFile(argv[1], NULL, XML_PARSE_NONET);
	hh = fopen(argv[2], "w");
	mb = fopen(argv[3], "w");
	if (!r || !hh || !mb)
	{
		perror("flow2csv");
		return 1;
	}
	while ((ret = xmlTextReaderRead(r)) == 1)
	{
		int			type = xmlTextReaderNodeType(r);
		const char *name = (const char *) xmlTextReaderConstLocalName(r);

		if (type == XML_READER_TYPE_ELEMENT)
		{
			text[0] = '\0';
			if (strcmp(name, "Syst04") == 0)
			{
				year = atoi(attr(r, "controlYear", b1, sizeof(b1)));
				shipment = atoi(attr(r, "shipment", b1, sizeof(b1)));
			}
			else if (strcmp(name, "Household") == 0)
			{
				attr(r, "requestNumber", req, sizeof(req));
				total[0] = '\0';
			}
			else if (strcmp(name, "Requester") == 0)
				attr(r, "niss", requester, sizeof(requester));
			else if (strcmp(name, "Member") == 0)
			{
				if (requester[0])
				{
					fprintf(hh, "%d,%s,%d,%d,%s,%s,%s\n", year, req, shipment, year - 2, requester, total, argv[4]);
					requester[0] = '\0';
				}
				attr(r, "niss", niss, sizeof(niss));
				attr(r, "returnCode", rc, sizeof(rc));
				tax[0] = ci[0] = pt[0] = '\0';
				ncodes = namounts = 0;
				codes[0] = amounts[0] = '\0';
				if (xmlTextReaderIsEmptyElement(r))
					fprintf(mb, "%d,%s,%d,%s,%s,,,,{},{}\n", year, req, shipment, niss, rc);
			}
			else if (strcmp(name, "Ipcal") == 0 && ncodes + 80 < sizeof(codes) && namounts + 80 < sizeof(amounts))
			{
				ncodes += snprintf(codes + ncodes, sizeof(codes) - ncodes, "%s%s", ncodes ? "," : "",
								   attr(r, "code", b1, sizeof(b1)));
				namounts += snprintf(amounts + namounts, sizeof(amounts) - namounts, "%s%s", namounts ? "," : "",
									 attr(r, "amount", b2, sizeof(b2)));
			}
		}
		else if (type == XML_READER_TYPE_TEXT)
			snprintf(text, sizeof(text), "%s", (const char *) xmlTextReaderConstValue(r));
		else if (type == XML_READER_TYPE_END_ELEMENT)
		{
			if (strcmp(name, "HouseholdTotal") == 0)
				snprintf(total, sizeof(total), "%s", text);
			else if (strcmp(name, "TaxSheet") == 0)
				snprintf(tax, sizeof(tax), "%s", text);
			else if (strcmp(name, "CadastralIncome") == 0)
				snprintf(ci, sizeof(ci), "%s", text);
			else if (strcmp(name, "PersonalTotal") == 0)
				snprintf(pt, sizeof(pt), "%s", text);
			else if (strcmp(name, "Member") == 0)
				fprintf(mb, "%d,%s,%d,%s,%s,%s,%s,%s,\"{%s}\",\"{%s}\"\n", year, req, shipment, niss, rc, tax, ci, pt,
						codes, amounts);
		}
	}
	xmlFreeTextReader(r);
	fclose(hh);
	fclose(mb);
	if (ret != 0)
	{
		fprintf(stderr, "flow2csv: %s is not well-formed\n", argv[1]);
		return 1;
	}
	return 0;
}
