CREATE TABLE `eval_reports` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`provider` text NOT NULL,
	`model` text NOT NULL,
	`cases` integer NOT NULL,
	`passed` integer NOT NULL,
	`metrics` text NOT NULL,
	`report` text NOT NULL,
	`digest` text NOT NULL,
	`created_at` text NOT NULL,
	`uploaded_by` text,
	`uploaded_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`)
);
--> statement-breakpoint
CREATE INDEX `eval_reports_tenant_created` ON `eval_reports` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `shadow_expectations` (
	`tenant_id` text NOT NULL,
	`run_id` text NOT NULL,
	`expected` text NOT NULL,
	`reference_run` text,
	`score` real,
	`scored_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	PRIMARY KEY(`tenant_id`, `run_id`)
);
