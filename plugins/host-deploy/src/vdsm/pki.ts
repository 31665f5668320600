/**
 * VDSM certificate enrollment for host-deploy (`_lib/pki/enroll-plugin.ts`): a redeploy that
 * receives the certificate it already has keeps it, so a second run changes nothing.
 */
import { vdsmPkiPlugin } from '../_lib/pki/enroll-plugin.js';

export default vdsmPkiPlugin({ keepSameCertificate: true });
