DROP TABLE thread_reads;
DROP TABLE thread_messages;
DROP TABLE threads;
