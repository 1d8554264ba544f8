ALTER TABLE services DROP COLUMN ages_stated;
