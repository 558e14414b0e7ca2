//! Keys and certificates: a PKCS#12 file opened into a signing key and its chain, signatures
//! checked against a certificate's public key, and certificate names and times read for people.

use chrono::{DateTime, Utc};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use scanpro_core::{ErrorCode, ToolError};
use sha2::Digest;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

/// A signing key with its certificate (first) and the chain the file carried.
pub struct Credentials {
    pub(crate) key: PrivateKey,
    pub(crate) chain: Vec<Certificate>,
}

pub(crate) enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

/// The digests ScanPro reads in signatures; it signs with SHA-256 (SHA-384 for P-384 keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

pub(crate) const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
pub(crate) const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(crate) const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub(crate) const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA1_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const P256_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

impl Hash {
    pub(crate) fn of_oid(oid: &ObjectIdentifier) -> Option<Self> {
        [(SHA1, Self::Sha1), (SHA256, Self::Sha256), (SHA384, Self::Sha384), (SHA512, Self::Sha512)]
            .into_iter()
            .find_map(|(known, hash)| (known == *oid).then_some(hash))
    }

    pub(crate) fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => SHA1,
            Self::Sha256 => SHA256,
            Self::Sha384 => SHA384,
            Self::Sha512 => SHA512,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    /// The digest of the concatenated `parts`.
    pub(crate) fn digest<'a>(self, parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
        fn run<'b, D: Digest>(parts: impl IntoIterator<Item = &'b [u8]>) -> Vec<u8> {
            let mut hasher = D::new();
            parts.into_iter().for_each(|part| hasher.update(part));
            hasher.finalize().to_vec()
        }
        match self {
            Self::Sha1 => run::<sha1::Sha1>(parts),
            Self::Sha256 => run::<sha2::Sha256>(parts),
            Self::Sha384 => run::<sha2::Sha384>(parts),
            Self::Sha512 => run::<sha2::Sha512>(parts),
        }
    }
}

impl Credentials {
    /// Opens a PKCS#12 (`.p12`, `.pfx`) file: the first key in it, with its certificate chain.
    /// A password that does not open it is `wrong_password`; a file that is not PKCS#12, holds no
    /// key, or a key ScanPro cannot sign with (RSA, P-256 and P-384 are supported) is
    /// `invalid_params`.
    pub fn from_pkcs12(bytes: &[u8], password: &str) -> Result<Self, ToolError> {
        let store = KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Strict).map_err(|e| match e {
            p12_keystore::error::Error::MacError(_) => {
                ToolError::new(ErrorCode::WrongPassword, "password: it does not open the certificate file")
            }
            other => ToolError::invalid_param("certificate", format!("not a readable PKCS#12 file ({other})")),
        })?;
        let (_, entry) = store
            .private_key_chain()
            .ok_or_else(|| ToolError::invalid_param("certificate", "the PKCS#12 file holds no private key"))?;
        let chain = entry
            .certs()
            .iter()
            .map(|certificate| Certificate::from_der(certificate.as_der()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ToolError::invalid_param("certificate", format!("a certificate in it is unreadable ({e})")))?;
        let key = PrivateKey::from_pkcs8(entry.key().as_der())?;
        let leaf = chain.first().ok_or_else(|| ToolError::invalid_param("certificate", "it holds no certificate"))?;
        let public = leaf
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| ToolError::invalid_param("certificate", format!("unreadable public key ({e})")))?;
        if key.public_key_der()? != public {
            return Err(ToolError::invalid_param("certificate", "its private key does not belong to its certificate"));
        }
        Ok(Self { key, chain })
    }

    pub(crate) fn certificate(&self) -> &Certificate {
        &self.chain[0]
    }

    /// The certificate holder's common name (else the whole subject).
    pub fn signer_name(&self) -> String {
        common_name(self.certificate())
    }

    /// The digest signatures with this key use.
    pub(crate) fn hash(&self) -> Hash {
        match self.key {
            PrivateKey::P384(_) => Hash::Sha384,
            PrivateKey::Rsa(_) | PrivateKey::P256(_) => Hash::Sha256,
        }
    }

    /// Refuses a certificate that is not valid at `at`.
    pub(crate) fn check_valid_at(&self, at: DateTime<Utc>) -> Result<(), ToolError> {
        let (not_before, not_after) = validity(self.certificate());
        if at < not_before {
            return Err(ToolError::invalid_param(
                "certificate",
                format!("it is not valid before {}", not_before.format("%Y-%m-%d %H:%M UTC")),
            ));
        }
        if at > not_after {
            return Err(ToolError::invalid_param(
                "certificate",
                format!("it expired on {}", not_after.format("%Y-%m-%d %H:%M UTC")),
            ));
        }
        Ok(())
    }
}

impl PrivateKey {
    fn from_pkcs8(der: &[u8]) -> Result<Self, ToolError> {
        if let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_der(der) {
            return Ok(Self::Rsa(Box::new(key)));
        }
        if let Ok(key) = p256::SecretKey::from_pkcs8_der(der) {
            return Ok(Self::P256(key.into()));
        }
        if let Ok(key) = p384::SecretKey::from_pkcs8_der(der) {
            return Ok(Self::P384(key.into()));
        }
        Err(ToolError::invalid_param("certificate", "its key is neither RSA nor ECDSA P-256 or P-384"))
    }

    fn public_key_der(&self) -> Result<Vec<u8>, ToolError> {
        use rsa::pkcs8::EncodePublicKey;
        let der = match self {
            Self::Rsa(key) => key.to_public_key().to_public_key_der(),
            Self::P256(key) => key.verifying_key().to_public_key_der(),
            Self::P384(key) => key.verifying_key().to_public_key_der(),
        };
        der.map(|doc| doc.as_bytes().to_vec()).map_err(|e| ToolError::internal(format!("public key: {e}")))
    }

    /// The signature of `message` (hashed with `hash`) and its algorithm identifier's OID.
    pub(crate) fn sign(&self, hash: Hash, message: &[u8]) -> Result<(ObjectIdentifier, Vec<u8>), ToolError> {
        use signature::hazmat::PrehashSigner;
        let digest = hash.digest([message]);
        let failed = |e: &dyn std::fmt::Display| ToolError::internal(format!("signing failed: {e}"));
        match self {
            Self::Rsa(key) => {
                let scheme = match hash {
                    Hash::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    _ => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                };
                let signature = key.sign(scheme, &digest).map_err(|e| failed(&e))?;
                Ok((if hash == Hash::Sha384 { SHA384_WITH_RSA } else { SHA256_WITH_RSA }, signature))
            }
            Self::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign_prehash(&digest).map_err(|e| failed(&e))?;
                Ok((ECDSA_SHA256, signature.to_der().as_bytes().to_vec()))
            }
            Self::P384(key) => {
                let signature: p384::ecdsa::Signature = key.sign_prehash(&digest).map_err(|e| failed(&e))?;
                Ok((ECDSA_SHA384, signature.to_der().as_bytes().to_vec()))
            }
        }
    }
}

/// Whether `signature` over `message` verifies under `key`, for the signature algorithm
/// `algorithm` (a bare `rsaEncryption` or `ecPublicKey` takes its digest from `digest`).
pub(crate) fn verifies(
    key: &SubjectPublicKeyInfoOwned,
    algorithm: &ObjectIdentifier,
    digest: Option<Hash>,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, String> {
    let hash = match *algorithm {
        SHA1_WITH_RSA | ECDSA_SHA1 => Hash::Sha1,
        SHA256_WITH_RSA | ECDSA_SHA256 => Hash::Sha256,
        SHA384_WITH_RSA | ECDSA_SHA384 => Hash::Sha384,
        SHA512_WITH_RSA | ECDSA_SHA512 => Hash::Sha512,
        RSA_ENCRYPTION | EC_PUBLIC_KEY => digest.ok_or("no digest algorithm")?,
        other => return Err(format!("the signature algorithm {other} is not supported")),
    };
    let hashed = hash.digest([message]);
    let key_bytes = key.subject_public_key.raw_bytes();
    if key.algorithm.oid == RSA_ENCRYPTION {
        let der = key.to_der().map_err(|e| format!("RSA key: {e}"))?;
        let public = rsa::RsaPublicKey::from_public_key_der(&der).map_err(|e| format!("RSA key: {e}"))?;
        let scheme = match hash {
            Hash::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
            Hash::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            Hash::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
            Hash::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
        };
        return Ok(public.verify(scheme, &hashed, signature).is_ok());
    }
    if key.algorithm.oid != EC_PUBLIC_KEY {
        return Err(format!("the key algorithm {} is not supported", key.algorithm.oid));
    }
    use signature::hazmat::PrehashVerifier;
    let curve = key.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    match curve {
        Some(P256_CURVE) => {
            let public =
                p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(|e| format!("P-256 key: {e}"))?;
            let Ok(signature) = p256::ecdsa::Signature::from_der(signature) else { return Ok(false) };
            Ok(public.verify_prehash(&hashed, &signature).is_ok())
        }
        Some(P384_CURVE) => {
            let public =
                p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(|e| format!("P-384 key: {e}"))?;
            let Ok(signature) = p384::ecdsa::Signature::from_der(signature) else { return Ok(false) };
            Ok(public.verify_prehash(&hashed, &signature).is_ok())
        }
        _ => Err("the elliptic curve is not supported (P-256 and P-384 are)".into()),
    }
}

/// Whether `algorithm` is a signature made over SHA-1, which collisions can forge.
pub(crate) fn is_sha1(algorithm: &ObjectIdentifier) -> bool {
    *algorithm == SHA1_WITH_RSA || *algorithm == ECDSA_SHA1
}

/// Whether `certificate` may issue others: a CA by its basic constraints, and allowed to sign
/// certificates by its key usage when it has one. A version 1 certificate (no extensions at
/// all, as some old roots are) counts as a CA.
pub(crate) fn may_issue(certificate: &Certificate) -> bool {
    use der::oid::AssociatedOid;
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
    let Some(extensions) = certificate.tbs_certificate.extensions.as_deref() else { return true };
    let find = |oid: ObjectIdentifier| extensions.iter().find(|e| e.extn_id == oid).map(|e| e.extn_value.as_bytes());
    let is_ca = find(BasicConstraints::OID).and_then(|v| BasicConstraints::from_der(v).ok()).is_some_and(|b| b.ca);
    let signs_certificates = find(KeyUsage::OID).is_none_or(|v| KeyUsage::from_der(v).is_ok_and(|k| k.key_cert_sign()));
    is_ca && signs_certificates
}

/// Whether `issuer`'s key signed `certificate` (not over SHA-1).
pub(crate) fn issued_by(certificate: &Certificate, issuer: &Certificate) -> bool {
    if certificate.tbs_certificate.issuer != issuer.tbs_certificate.subject
        || is_sha1(&certificate.signature_algorithm.oid)
    {
        return false;
    }
    let Ok(tbs) = certificate.tbs_certificate.to_der() else { return false };
    let Some(signature) = certificate.signature.as_bytes() else { return false };
    verifies(
        &issuer.tbs_certificate.subject_public_key_info,
        &certificate.signature_algorithm.oid,
        None,
        &tbs,
        signature,
    )
    .unwrap_or(false)
}

/// The subject's common name, else the whole subject as text.
pub(crate) fn common_name(certificate: &Certificate) -> String {
    let subject = &certificate.tbs_certificate.subject;
    subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|attribute| attribute.oid == COMMON_NAME)
        .and_then(|attribute| directory_string(&attribute.value))
        .unwrap_or_else(|| subject.to_string())
}

fn directory_string(value: &der::Any) -> Option<String> {
    value
        .decode_as::<der::asn1::Utf8StringRef<'_>>()
        .map(|s| s.as_str().to_owned())
        .or_else(|_| value.decode_as::<der::asn1::PrintableStringRef<'_>>().map(|s| s.as_str().to_owned()))
        .or_else(|_| value.decode_as::<der::asn1::Ia5StringRef<'_>>().map(|s| s.as_str().to_owned()))
        .ok()
}

/// When a certificate starts and stops being valid.
pub(crate) fn validity(certificate: &Certificate) -> (DateTime<Utc>, DateTime<Utc>) {
    let validity = &certificate.tbs_certificate.validity;
    (utc(validity.not_before.to_system_time()), utc(validity.not_after.to_system_time()))
}

pub(crate) fn utc(time: std::time::SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(time)
}

/// Certificates from PEM text (`-----BEGIN CERTIFICATE-----` blocks); text between the blocks
/// (other blocks, comments) is skipped. Each block is read on its own: x509-cert's chain reader
/// overflows on text without one.
pub fn certificates_from_pem(text: &str) -> Result<Vec<Certificate>, String> {
    use der::DecodePem;
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut certificates = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(length) = rest[start..].find(END) else {
            return Err(format!("not a PEM certificate list (certificate {} is not closed)", certificates.len() + 1));
        };
        let block = &rest[start..start + length + END.len()];
        let certificate = Certificate::from_pem(block)
            .map_err(|e| format!("not a PEM certificate list (certificate {}: {e})", certificates.len() + 1))?;
        certificates.push(certificate);
        rest = &rest[start + length + END.len()..];
    }
    Ok(certificates)
}
