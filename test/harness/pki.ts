import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";

/** Files of the throwaway PKI of one local control plane. */
export interface Pki {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  /** The API server's client certificate towards kubelets (logs, exec, port-forward), user kube-apiserver-kubelet-client. */
  readonly kubeletClientCert: string;
  readonly kubeletClientKey: string;
  readonly saKey: string;
  readonly saPub: string;
}

/** The user the API server is to kubelets: a real node's kubelet authorizes it (system:kubelet-api-admin). */
export const KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client";

const openssl = (args: readonly string[], cwd: string) => execa("openssl", args, { cwd });

/**
 * A CA, a serving certificate for 127.0.0.1 and the in-cluster service names, an admin client
 * certificate in `system:masters` (as envtest does it), the API server's client certificate for kubelets
 * (as kubeadm names it; test/harness/node.ts lets that user use the kubelet's API), and the service-account
 * signing key pair.
 */
export async function createPki(dir: string): Promise<Pki> {
  const f = (name: string) => path.join(dir, name);
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=tether-local-ca",
    "-keyout", "ca.key", "-out", "ca.crt"], dir);
  const sans = "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default," +
    "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local";
  await writeFile(f("server.ext"), `${sans}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
  await writeFile(f("client.ext"), "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n");
  await Promise.all([
    signed("server", "/CN=kube-apiserver", "server.ext", dir),
    signed("admin", "/O=system:masters/CN=tether-admin", "client.ext", dir),
    signed("apiserver-kubelet-client", `/CN=${KUBELET_CLIENT_USER}`, "client.ext", dir),
    openssl(["genrsa", "-out", "sa.key", "2048"], dir),
  ]);
  await openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
  return {
    caCert: f("ca.crt"), caKey: f("ca.key"), serverCert: f("server.crt"), serverKey: f("server.key"),
    adminCert: f("admin.crt"), adminKey: f("admin.key"),
    kubeletClientCert: f("apiserver-kubelet-client.crt"), kubeletClientKey: f("apiserver-kubelet-client.key"), saKey: f("sa.key"), saPub: f("sa.pub"),
  };
}

async function signed(name: string, subject: string, ext: string, dir: string): Promise<void> {
  await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", `${name}.key`, "-out", `${name}.csr`], dir);
  await openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
    "-days", "30", "-extfile", ext, "-out", `${name}.crt`], dir);
}
