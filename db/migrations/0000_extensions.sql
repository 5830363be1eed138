-- Search needs trigram matching and vectors; both extensions ship with PGlite and managed Postgres.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS vector;
