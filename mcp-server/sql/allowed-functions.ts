/**
 * What user-written SQL (source queries, dbt tests kept as rules) may call and cast to. An allow-list, not a
 * deny-list: a built-in function nobody thought of (one that reads a file, looks a name up in the database's
 * catalog, waits, or writes a large object) is refused because it is not here, not because it was foreseen.
 * Every name is also checked to be Postgres's own (in pg_catalog, nowhere else) when the query is gated.
 */

const words = (text: string) => text.split(' ');

const aggregates = words(
  'count sum avg min max stddev stddev_samp stddev_pop variance var_samp var_pop bool_and bool_or every ' +
    'bit_and bit_or string_agg array_agg json_agg jsonb_agg json_object_agg jsonb_object_agg ' +
    'percentile_cont percentile_disc mode corr covar_samp covar_pop regr_slope regr_intercept regr_r2 ' +
    'regr_count regr_avgx regr_avgy',
);
const windows = words(
  'row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value',
);
const text = words(
  'lower upper initcap length char_length character_length octet_length bit_length btrim ltrim rtrim ' +
    'trim lpad rpad substr substring left right replace translate reverse split_part strpos position ' +
    'concat concat_ws format md5 sha256 sha512 to_hex ascii chr regexp_replace regexp_match ' +
    'regexp_matches regexp_split_to_array regexp_split_to_table regexp_like regexp_count regexp_instr ' +
    'regexp_substr starts_with string_to_array string_to_table array_to_string encode decode overlay ' +
    'normalize is_normalized like_escape similar_to_escape quote_literal quote_nullable quote_ident ' +
    'to_char to_number to_date to_timestamp num_nulls num_nonnulls repeat',
);
const numbers = words(
  'abs ceil ceiling floor round trunc sign sqrt cbrt power pow exp ln log log10 mod div pi degrees ' +
    'radians sin cos tan asin acos atan atan2 width_bucket scale gcd lcm random greatest least factorial ' +
    'numeric int2 int4 int8 float4 float8 text bool date timestamp timestamptz interval varchar bpchar',
);
const times = words(
  'now date_trunc date_part date_bin extract age make_date make_time make_timestamp make_timestamptz ' +
    'make_interval justify_days justify_hours justify_interval isfinite clock_timestamp ' +
    'statement_timestamp transaction_timestamp timeofday timezone overlaps',
);
const json = words(
  'to_json to_jsonb row_to_json array_to_json json_build_object jsonb_build_object json_build_array ' +
    'jsonb_build_array json_object jsonb_object json_extract_path json_extract_path_text ' +
    'jsonb_extract_path jsonb_extract_path_text json_array_length jsonb_array_length json_typeof ' +
    'jsonb_typeof json_array_elements json_array_elements_text jsonb_array_elements ' +
    'jsonb_array_elements_text json_each json_each_text jsonb_each jsonb_each_text json_object_keys ' +
    'jsonb_object_keys json_strip_nulls jsonb_strip_nulls jsonb_set jsonb_insert jsonb_pretty ' +
    'jsonb_path_query jsonb_path_query_array jsonb_path_query_first jsonb_path_exists jsonb_path_match',
);
const arrays = words(
  'array_length cardinality array_position array_positions array_append array_prepend array_cat ' +
    'array_remove array_replace unnest array_lower array_upper array_ndims array_dims generate_series ' +
    'generate_subscripts',
);
// Volatile, but they only draw numbers or read the clock.
const uuids = ['gen_random_uuid'];

/** Built-in functions user-written SQL may call. */
export const allowedFunctions: ReadonlySet<string> = new Set([
  ...aggregates,
  ...windows,
  ...text,
  ...numbers,
  ...times,
  ...json,
  ...arrays,
  ...uuids,
]);

/** Volatile functions that are still harmless: they draw numbers or read the clock. */
export const harmlessVolatile: ReadonlySet<string> = new Set([
  'random',
  'gen_random_uuid',
  'clock_timestamp',
  'timeofday',
  'statement_timestamp',
]);

/**
 * Types user-written SQL may cast to or declare (as the parser names them). Not a table's row type
 * (`null::secret.table` spells out its columns), nor a `reg*` type (`'secret.table'::regclass` looks the name
 * up), nor `cstring` (the door to `regclassin`).
 */
export const allowedTypes: ReadonlySet<string> = new Set(
  words(
    'int2 int4 int8 smallint integer bigint int numeric decimal float4 float8 real text varchar bpchar char bool boolean date time timetz timestamp timestamptz interval json jsonb uuid bytea money inet cidr macaddr bit varbit tsvector tsquery name oid',
  ),
);
