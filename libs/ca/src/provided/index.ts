export { checkProvidedCa, createProvidedBackend } from './provided.js';
