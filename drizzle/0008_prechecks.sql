ALTER TABLE "deployment_targets" ADD COLUMN "checks" jsonb;--> statement-breakpoint
ALTER TABLE "deployment_targets" ADD COLUMN "decision" jsonb;--> statement-breakpoint
ALTER TABLE "deployment_targets" ADD COLUMN "decided_by" uuid;--> statement-breakpoint
ALTER TABLE "deployment_targets" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deployment_targets" ADD CONSTRAINT "deployment_targets_decided_by_users_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;