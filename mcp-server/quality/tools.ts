import { alertTools } from './alerts-tools.js';
import { profileTools } from './profile-tools.js';
import { ruleTools } from './rules-tools.js';

/** Every quality tool: profiles and scores, rules and checks, anomalies, SLAs and alerts. */
export const qualityTools = [...profileTools, ...ruleTools, ...alertTools];
