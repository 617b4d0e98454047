// @peculiar/x509 needs the reflect-metadata polyfill loaded before it; every module here
// imports x509 through this file so the order always holds.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

export { x509 };
