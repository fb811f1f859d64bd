/*
 * test_glob.c - Bucket Tables patterns: matching, fixed prefixes and
 * rejected patterns, one named vector each.
 */
#include "compat.h"

#include "catalog/glob.h"
#include "tap.h"

static const struct {
	const char *pattern;
	const char *key;
	bool match;
} match_cases[] = {
	{"raw/orders/**/*.parquet", "raw/orders/dt=2024-01-01/part-0.parquet",
	 true},
	{"raw/orders/**/*.parquet", "raw/orders/part-0.parquet", true},
	{"raw/orders/**/*.parquet", "raw/orders/a/b/c/x.parquet", true},
	{"raw/orders/**/*.parquet", "raw/orders/a/b/c/x.csv", false},
	{"raw/orders/**/*.parquet", "raw/ordersX/a.parquet", false},
	{"raw/*.csv", "raw/a.csv", true},
	{"raw/*.csv", "raw/sub/a.csv", false},
	{"raw/?.csv", "raw/a.csv", true},
	{"raw/?.csv", "raw/ab.csv", false},
	{"raw/[ab].csv", "raw/b.csv", true},
	{"raw/[!ab].csv", "raw/b.csv", false},
	{"raw/[a-c]x", "raw/cx", true},
	{"raw/[a-c]x", "raw/dx", false},
	{"raw/customers/", "raw/customers/c1.parquet", true},
	{"raw/customers/", "raw/customers/a/b.parquet", true},
	{"raw/customers/", "raw/customersX", false},
	{"raw/customers", "raw/customers/c1.parquet", true},
	{"raw/customers", "raw/customers", true},
	{"raw/customers", "raw/customersX/y", false},
	{"**", "anything/at/all", true},
	{"a/**", "a/b", true},
	{"a/**", "b/a", false},
	{"a\\*b", "a*b", true},
	{"a\\*b", "axb", false},
};

static const struct {
	const char *pattern;
	size_t fixed;
} fixed_cases[] = {
	{"raw/orders/**/*.parquet", 11}, {"raw/*.csv", 4},    {"*.csv", 0},
	{"raw/customers/", 14},		 {"raw/x[0-9]/y", 4},
};

static const char *const bad_patterns[] = {
	"", "/abs/*.csv", "raw/[abc", "raw/a**/x", "raw/**b", "trailing\\",
};

int main(void)
{
	char err[256];

	for (size_t i = 0; i < BFS_ARRAY_SIZE(match_cases); i++)
		tap_ok(bfs_glob_match(match_cases[i].pattern,
				      match_cases[i].key) ==
			       match_cases[i].match,
		       "match %s ~ %s is %s", match_cases[i].pattern,
		       match_cases[i].key,
		       match_cases[i].match ? "true" : "false");
	for (size_t i = 0; i < BFS_ARRAY_SIZE(fixed_cases); i++)
		tap_ok(bfs_glob_fixed_len(fixed_cases[i].pattern) ==
			       fixed_cases[i].fixed,
		       "fixed part of %s is %zu bytes", fixed_cases[i].pattern,
		       fixed_cases[i].fixed);
	for (size_t i = 0; i < BFS_ARRAY_SIZE(bad_patterns); i++) {
		int rc = bfs_glob_check(bad_patterns[i], err, sizeof(err));

		tap_ok(rc == EINVAL && err[0], "pattern '%s' rejected: %s",
		       bad_patterns[i], rc ? err : "(accepted)");
	}
	tap_ok(bfs_glob_check("raw/orders/**/*.parquet", err, sizeof(err)) == 0,
	       "good pattern accepted");
	return tap_done();
}
