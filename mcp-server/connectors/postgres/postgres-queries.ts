/**
 * Catalog queries for PostgreSQL 12+ (and PGlite). One query per kind of fact for the whole database,
 * so ten thousand tables cost a handful of round trips, not tens of thousands.
 */

const userSchemas = `n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
  and (cardinality($1::text[]) = 0 or n.nspname = any($1::text[]))`;

/** Tables (partitions included, linked to their parent), partitioned tables, views, materialized views, foreign tables. */
export const relationsQuery = `
select c.oid::int8 as oid, n.nspname as namespace, c.relname as name, c.relkind::text as relkind,
  obj_description(c.oid, 'pg_class') as description,
  pg_get_userbyid(c.relowner) as owner,
  case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid) end as definition,
  case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end as partition_key,
  c.reltuples::float8 as reltuples, c.relispopulated as populated,
  case when c.relkind in ('r', 'p', 'm') then pg_total_relation_size(c.oid)::float8 end as size_bytes,
  case when c.relkind in ('r', 'm') then pg_relation_size(c.oid)::float8 end as heap_bytes,
  (select array_agg(child.relname::text order by child.relname)
     from pg_inherits i join pg_class child on child.oid = i.inhrelid
    where i.inhparent = c.oid and child.relispartition) as partitions,
  (select pn.nspname || '.' || parent.relname from pg_inherits i join pg_class parent on parent.oid = i.inhparent
     join pg_namespace pn on pn.oid = parent.relnamespace where i.inhrelid = c.oid and c.relispartition) as partition_of,
  (select sum(pg_total_relation_size(i.inhrelid))::float8 from pg_inherits i where i.inhparent = c.oid) as partition_bytes
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')
  and ${userSchemas}
order by n.nspname, c.relname`;

export const columnsQuery = `
select a.attrelid::int8 as oid, a.attname as name, a.attnum::int as position,
  format_type(a.atttypid, a.atttypmod) as data_type, not a.attnotnull as nullable,
  col_description(a.attrelid, a.attnum) as description,
  pg_get_expr(d.adbin, d.adrelid) as default_value,
  t.typtype::text as type_kind,
  coalesce(nullif(t.typelem, 0), t.oid)::int8 as type_oid,
  coalesce(et.typtype, t.typtype)::text as base_type_kind
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_type t on t.oid = a.atttypid
left join pg_type et on et.oid = t.typelem and t.typelem <> 0
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where a.attnum > 0 and not a.attisdropped
  and c.relkind in ('r', 'p', 'v', 'm', 'f')
  and ${userSchemas}
order by a.attrelid, a.attnum`;

/**
 * Primary-key and foreign-key constraints with their columns in key order. A key declared on a
 * partitioned table is cloned onto each partition (conparentid set); only the declared one counts.
 */
export const constraintsQuery = `
select con.conrelid::int8 as oid, con.conname as name, con.contype::text as type,
  array(select a.attname::text from unnest(con.conkey) with ordinality k(attnum, ord)
        join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum order by k.ord) as columns,
  rn.nspname as ref_namespace, rc.relname as ref_name,
  array(select a.attname::text from unnest(con.confkey) with ordinality k(attnum, ord)
        join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum order by k.ord) as ref_columns
from pg_constraint con
join pg_class c on c.oid = con.conrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_class rc on rc.oid = con.confrelid
left join pg_namespace rn on rn.oid = rc.relnamespace
where con.contype in ('p', 'f') and con.conparentid = 0
  and ${userSchemas}
order by con.conrelid, con.conname`;

/** Labels of the enum types that columns use (also as array elements). */
export const enumLabelsQuery = `
select e.enumtypid::int8 as type_oid, array_agg(e.enumlabel::text order by e.enumsortorder) as labels
from pg_enum e where e.enumtypid = any($1::int8[]) group by e.enumtypid`;

/** The domain's base type, for columns declared with a domain. */
export const domainBaseQuery = `
select t.oid::int8 as type_oid, format_type(t.typbasetype, t.typtypmod) as base_type
from pg_type t where t.oid = any($1::int8[]) and t.typtype = 'd'`;
