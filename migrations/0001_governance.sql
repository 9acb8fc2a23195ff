CREATE TABLE `limit_usage` (
	`tenant_id` text NOT NULL,
	`run_id` text NOT NULL,
	`step_id` text NOT NULL,
	`tool` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `run_id`, `step_id`)
);
--> statement-breakpoint
CREATE INDEX `limit_usage_tenant_at` ON `limit_usage` (`tenant_id`,`at`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`kind` text NOT NULL,
	`subject` text NOT NULL,
	`email` text,
	`name` text,
	`role` text NOT NULL,
	`groups` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`expires_at` text NOT NULL,
	`revoked_at` text,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `sessions_tenant_subject` ON `sessions` (`tenant_id`,`subject`);--> statement-breakpoint
ALTER TABLE `api_keys` ADD `expires_at` text;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `rotated_from` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `actor_role` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `settings` text DEFAULT '{}' NOT NULL;