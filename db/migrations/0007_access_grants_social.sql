CREATE TABLE "domain_follows" (
	"principal_id" text NOT NULL,
	"domain_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "domain_follows_principal_id_domain_id_pk" PRIMARY KEY("principal_id","domain_id")
);
--> statement-breakpoint
ALTER TABLE "access_requests" ADD COLUMN "requested_days" integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE "access_requests" ADD COLUMN "auto_rule" text;--> statement-breakpoint
ALTER TABLE "access_requests" ADD COLUMN "decision_reason" text;--> statement-breakpoint
ALTER TABLE "access_requests" ADD COLUMN "revoked_by" text;--> statement-breakpoint
ALTER TABLE "access_requests" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "comments" ADD COLUMN "mentions" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "domain_follows" ADD CONSTRAINT "domain_follows_principal_id_principals_id_fk" FOREIGN KEY ("principal_id") REFERENCES "public"."principals"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "domain_follows" ADD CONSTRAINT "domain_follows_domain_id_domains_id_fk" FOREIGN KEY ("domain_id") REFERENCES "public"."domains"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "access_requests_requester_idx" ON "access_requests" USING btree ("requester_id","created_at");--> statement-breakpoint
CREATE INDEX "access_requests_grant_idx" ON "access_requests" USING btree ("asset_id","requester_id","expires_at") WHERE "access_requests"."status" = 'approved';--> statement-breakpoint
CREATE INDEX "comments_mentions_idx" ON "comments" USING gin ("mentions");--> statement-breakpoint
CREATE INDEX "usage_events_principal_idx" ON "usage_events" USING btree ("principal_id","asset_id");--> statement-breakpoint
CREATE INDEX "usage_events_at_idx" ON "usage_events" USING btree ("at");