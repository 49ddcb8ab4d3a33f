CREATE TABLE "cache_key_rotations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"previous_key" text NOT NULL,
	"new_key" text NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"previous_key_trusted_until" timestamp with time zone,
	"signature" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cache_key_rotations" ADD CONSTRAINT "cache_key_rotations_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "cache_key_rotations_previous_idx" ON "cache_key_rotations" USING btree ("org_id","previous_key");--> statement-breakpoint
CREATE INDEX "cache_key_rotations_org_idx" ON "cache_key_rotations" USING btree ("org_id","created_at");