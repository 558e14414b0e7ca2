//! The CMS (RFC 5652) side of a PDF signature: a detached `SignedData` made as PAdES baseline B
//! asks (content type, message digest and the signing certificate's hash as signed attributes;
//! no signing-time attribute, since the time is the dictionary's `/M`), with an RFC 3161
//! time-stamp token over the signature value as an unsigned attribute when one is asked for.

use super::keys::{Credentials, Hash, PrivateKey};
use super::sign::TimestampSender;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, Int, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use scanpro_core::{ErrorCode, ToolError};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::{Attribute, AttributeValue};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

pub(crate) const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub(crate) const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
pub(crate) const SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub(crate) const TIMESTAMP_TOKEN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
pub(crate) const ID_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// `ESSCertIDv2` (RFC 5035); the hash is SHA-256 when none is named.
#[derive(Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// The `signing-certificate-v2` attribute: binds the signature to the signer's certificate.
#[derive(Sequence)]
pub(crate) struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

impl SigningCertificateV2 {
    /// Whether its first entry (the signer's, RFC 5035) is `certificate`'s hash.
    pub(crate) fn names(&self, certificate: &Certificate) -> bool {
        let Some(first) = self.certs.first() else { return false };
        let hash = first.hash_algorithm.as_ref().map_or(Some(Hash::Sha256), |a| Hash::of_oid(&a.oid));
        let Ok(der) = certificate.to_der() else { return false };
        hash.is_some_and(|hash| hash.digest([der.as_slice()]) == first.cert_hash.as_bytes())
    }
}

/// What the signature covers: the digest of the document's signed bytes.
pub(crate) struct SignedAttributes<'a> {
    pub(crate) digest: &'a [u8],
    pub(crate) hash: Hash,
}

/// The DER size of a certificate, for the room the signature needs.
pub(crate) fn encoded_len(certificate: &Certificate) -> usize {
    certificate.to_der().map_or(4096, |der| der.len())
}

fn der_failed(e: der::Error) -> ToolError {
    ToolError::internal(format!("encoding the signature: {e}"))
}

fn attribute(oid: ObjectIdentifier, value: impl Encode) -> Result<Attribute, ToolError> {
    let value = AttributeValue::from_der(&value.to_der().map_err(der_failed)?).map_err(der_failed)?;
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value]).map_err(der_failed)? })
}

fn algorithm(oid: ObjectIdentifier, null_parameters: bool) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: null_parameters.then(|| Any::from(der::asn1::Null)) }
}

/// A DER `SignedData` (in its `ContentInfo`) signing `signed` with `credentials`; with
/// `timestamp`, the authority's token over the signature value is added.
pub(crate) fn sign(
    credentials: &Credentials,
    signed: &SignedAttributes<'_>,
    timestamp: Option<&TimestampSender<'_>>,
) -> Result<Vec<u8>, ToolError> {
    let certificate = credentials.certificate();
    let certificate_der = certificate.to_der().map_err(der_failed)?;
    let essential = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(Hash::Sha256.digest([certificate_der.as_slice()])).map_err(der_failed)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(certificate.tbs_certificate.issuer.clone())],
                serial_number: certificate.tbs_certificate.serial_number.clone(),
            }),
        }],
        policies: None,
    };
    let attributes = SetOfVec::try_from(vec![
        attribute(CONTENT_TYPE, ID_DATA)?,
        attribute(MESSAGE_DIGEST, OctetString::new(signed.digest).map_err(der_failed)?)?,
        attribute(SIGNING_CERTIFICATE_V2, essential)?,
    ])
    .map_err(der_failed)?;
    let (signature_oid, signature) = credentials.key.sign(signed.hash, &attributes.to_der().map_err(der_failed)?)?;
    let unsigned_attrs = match timestamp {
        Some(send) => Some(SetOfVec::try_from(vec![timestamp_attribute(&signature, send)?]).map_err(der_failed)?),
        None => None,
    };
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: certificate.tbs_certificate.issuer.clone(),
            serial_number: certificate.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: algorithm(signed.hash.oid(), false),
        signed_attrs: Some(attributes),
        // RSA algorithm identifiers carry NULL parameters; ECDSA ones none (RFC 4055, RFC 5758).
        signature_algorithm: algorithm(signature_oid, matches!(credentials.key, PrivateKey::Rsa(_))),
        signature: OctetString::new(signature).map_err(der_failed)?,
        unsigned_attrs,
    };
    let certificates = credentials.chain.iter().cloned().map(CertificateChoices::Certificate).collect::<Vec<_>>();
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![algorithm(signed.hash.oid(), false)]).map_err(der_failed)?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: Some(CertificateSet(SetOfVec::try_from(certificates).map_err(der_failed)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).map_err(der_failed)?),
    };
    let content = Any::encode_from(&signed_data).map_err(der_failed)?;
    ContentInfo { content_type: ID_SIGNED_DATA, content }.to_der().map_err(der_failed)
}

/// Asks the time-stamping authority (through `send`) for a token over `signature` and returns it
/// as the `signature-time-stamp` attribute, after checking it answers this request.
fn timestamp_attribute(signature: &[u8], send: &TimestampSender) -> Result<Attribute, ToolError> {
    let imprint = Hash::Sha256.digest([signature]);
    let nonce: [u8; 8] = rand::random();
    // A positive INTEGER: the high bit clear.
    let nonce = Int::new(&[&[0x01u8][..], &nonce].concat()).map_err(der_failed)?;
    let request = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifier { oid: Hash::Sha256.oid(), parameters: None },
            hashed_message: OctetString::new(imprint.clone()).map_err(der_failed)?,
        },
        req_policy: None,
        nonce: Some(nonce.clone()),
        cert_req: true,
        extensions: None,
    };
    let answer = send(&request.to_der().map_err(der_failed)?)?;
    let refused = |why: String| ToolError::new(ErrorCode::Unavailable, format!("the time-stamping authority {why}"));
    let response = TimeStampResp::from_der(&answer).map_err(|e| refused(format!("sent an unreadable answer ({e})")))?;
    use cmpv2::status::PkiStatus;
    if !matches!(response.status.status, PkiStatus::Accepted | PkiStatus::GrantedWithMods) {
        return Err(refused(format!("refused the request ({:?})", response.status.status)));
    }
    let token = response.time_stamp_token.ok_or_else(|| refused("granted no token".into()))?;
    let info = tst_info(&token).map_err(|e| refused(format!("sent a token that is unreadable ({e})")))?;
    if info.message_imprint.hashed_message.as_bytes() != imprint.as_slice() || info.nonce.as_ref() != Some(&nonce) {
        return Err(refused("answered another request".into()));
    }
    attribute(TIMESTAMP_TOKEN, token)
}

/// The `TSTInfo` inside a time-stamp token.
pub(crate) fn tst_info(token: &ContentInfo) -> Result<TstInfo, String> {
    let signed: SignedData = token.content.decode_as().map_err(|e| e.to_string())?;
    if signed.encap_content_info.econtent_type != ID_TST_INFO {
        return Err("it holds no TSTInfo".into());
    }
    let content = signed.encap_content_info.econtent.ok_or("it holds no TSTInfo")?;
    let octets: OctetString = content.decode_as().map_err(|e| e.to_string())?;
    TstInfo::from_der(octets.as_bytes()).map_err(|e| e.to_string())
}
