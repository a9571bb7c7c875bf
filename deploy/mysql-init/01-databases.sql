-- Run by the mysql image on the first start of an empty data volume (not on later starts).
-- The AppHost creates the same databases itself; the services migrate their own tables.
CREATE DATABASE IF NOT EXISTS `inventorydb` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `uploaddb` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
