// make_sample.mjs DIR - write the demo dataset: a small "orders" table as
// Parquet with hive-style partitions (raw/orders/dt=YYYY-MM-DD/...) and a
// "customers" table, generated here so the demo needs no download.
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';

const dir = process.argv[2];
if (!dir) {
	console.error('usage: make_sample.mjs DIR');
	process.exit(2);
}
mkdirSync(`${dir}/raw/customers`, { recursive: true });
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run(`COPY (
	SELECT i AS order_id, (i % 7) AS customer_id,
	       round(10 + (i * 37 % 1000) / 10.0, 2) AS amount,
	       strftime(DATE '2024-01-01' + INTERVAL (i % 3) DAY, '%Y-%m-%d') AS dt
	FROM range(300) t(i))
	TO '${dir}/raw/orders' (FORMAT PARQUET, PARTITION_BY (dt), OVERWRITE_OR_IGNORE)`);
await con.run(`COPY (
	SELECT i AS customer_id, 'customer-' || i AS name FROM range(7) t(i))
	TO '${dir}/raw/customers/customers.parquet' (FORMAT PARQUET)`);
console.log(`sample data written under ${dir}/raw`);
