export * from './zone-cp.js';
export {
  createDataplaneTokenVerifier,
  TOKEN_VERIFICATION_SECRET,
  type DataplaneTokenResult,
  type DataplaneTokenVerifier,
} from '@meshca/tokens';
