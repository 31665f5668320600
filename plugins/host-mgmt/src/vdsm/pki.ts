/**
 * VDSM certificate re-enrollment (reference host-deploy.md §3.3), host-deploy's enrollment
 * plugin (`VDSM/certificateEnrollment`) with one difference: the certificate the engine signed
 * is always installed, since a re-enrollment is asked for to replace it. The installed key is
 * kept (the request is for it) unless VDSM/certificateRenew=bool:True asks for a new one.
 */
import { vdsmPkiPlugin } from '../../../host-deploy/src/_lib/pki/enroll-plugin.js';

export default vdsmPkiPlugin({ keepSameCertificate: false });
