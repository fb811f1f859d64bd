// duckdb_query.mjs SQL - run one query in an in-memory DuckDB and print the
// rows as tab-separated lines. Tests use it to read files through a mount
// the way a data engineer would; no extension is downloaded (parquet is
// built in).
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
if (!sql) {
	console.error('usage: duckdb_query.mjs SQL');
	process.exit(2);
}
try {
	const inst = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
	const con = await inst.connect();
	const t0 = process.hrtime.bigint();
	const res = await con.runAndReadAll(sql);
	// the benchmark times the query alone (node's and DuckDB's start
	// are the same for every mount): DUCKDB_QUERY_TIME=1
	if (process.env.DUCKDB_QUERY_TIME)
		console.error('query seconds ' + Number(process.hrtime.bigint() - t0) / 1e9);
	for (const row of res.getRows())
		console.log(row.map(String).join('\t'));
} catch (e) {
	console.error('duckdb: ' + e.message);
	process.exit(1);
}
