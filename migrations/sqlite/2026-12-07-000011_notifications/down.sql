DROP TABLE account_tokens;
DROP TABLE notifications;
ALTER TABLE services DROP COLUMN publish_on_confirm;
ALTER TABLE users DROP COLUMN mail_off;
ALTER TABLE users DROP COLUMN email_confirmed_at;
