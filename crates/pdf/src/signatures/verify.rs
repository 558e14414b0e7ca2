//! Checking the signatures a PDF holds: for each signature field, whether the bytes it covers
//! are unchanged and its CMS signature verifies, whether the document was changed after it
//! (bytes appended beyond its byte range), its time (claimed, and a time-stamp token's), and
//! whether its certificate chains to a certificate of the trust store.

use super::cms::{
    MESSAGE_DIGEST, SIGNING_CERTIFICATE_V2, SIGNING_TIME, SigningCertificateV2, TIMESTAMP_TOKEN, tst_info,
};
use super::keys::{Hash, common_name, is_sha1, issued_by, may_issue, utc, validity, verifies};
use crate::guard::guarded;
use crate::info::decode_text;
use crate::open::open_with_bytes;
use chrono::{DateTime, Utc};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{GeneralizedTime, OctetString, UtcTime};
use der::{Decode, Encode, SliceReader};
use lopdf::xref::XrefEntry;
use lopdf::{Dictionary, Document, Object, ObjectId};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;
use x509_cert::Certificate;

/// Deepest field tree and longest certificate chain followed.
const MAX_DEPTH: usize = 16;
/// Most signatures one document may ask to check.
pub const MAX_SIGNATURES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub signatures: Vec<SignatureReport>,
    /// Signatures that are intact, made with a certificate valid at the time, and trusted.
    pub valid: usize,
    /// Whether a trust store was configured to judge certificates against.
    pub trust_store: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SignatureReport {
    pub field: String,
    /// The certificate holder's common name.
    pub signer: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// The certificate's serial number, in hex.
    pub serial: Option<String>,
    pub sub_filter: Option<String>,
    pub digest_algorithm: Option<String>,
    /// The time the signer claims (RFC 3339): the signing-time attribute, else `/M`.
    pub signing_time: Option<String>,
    pub timestamp: Option<TimestampReport>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact: Option<String>,
    /// The signed bytes are unchanged and the signature verifies with the certificate's key.
    pub intact: bool,
    /// The signature covers the whole file as it is.
    pub covers_whole_document: bool,
    /// Revisions were appended after this signature (later signatures count too).
    pub modified_after_signing: bool,
    /// What came after it: `none`, `signed` (only revisions that later signatures cover) or
    /// `unsigned` (changes no signature covers).
    pub changes_after_signing: String,
    /// Signatures made after this one.
    pub later_signatures: usize,
    /// The signer's certificate was valid at the signing time (the time stamp's when there is
    /// one).
    pub certificate_valid: bool,
    /// The certificate chains to a certificate of the trust store.
    pub trusted: bool,
    /// Why the certificate is trusted or not, in words.
    pub trust: String,
    /// What failed, in words; empty for a good signature.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimestampReport {
    /// RFC 3339.
    pub time: String,
    /// The time-stamping authority's certificate name.
    pub authority: Option<String>,
    /// The token is over this signature and its own signature verifies.
    pub intact: bool,
    /// The authority's certificate chains to the trust store: only then is its time used.
    pub trusted: bool,
}

/// Checks every signature of `input` against the trust store `trusted`.
pub fn verify(input: &Path, trusted: &[Certificate]) -> Result<VerifyReport, ToolError> {
    guarded("verify_signatures", || {
        let (doc, bytes) = open_with_bytes(input)?;
        if doc.was_encrypted() {
            return Err(ToolError::new(
                ErrorCode::EncryptedInput,
                "the PDF is encrypted; the signatures of encrypted PDFs are not checked",
            ));
        }
        let fields = signature_fields(&doc);
        if fields.len() > MAX_SIGNATURES {
            return Err(ToolError::new(
                ErrorCode::ResourceLimit,
                format!("the PDF has {} signatures; at most {MAX_SIGNATURES} are checked", fields.len()),
            ));
        }
        let end_of = |field: &SignatureField| value_of(&doc, field).and_then(byte_range).map_or(0, |r| r[2] + r[3]);
        let ends: Vec<usize> = fields.iter().map(end_of).collect();
        let newest_covers_file = ends
            .iter()
            .max()
            .is_some_and(|&end| end <= bytes.len() && bytes[end..].iter().all(u8::is_ascii_whitespace));
        let signatures: Vec<SignatureReport> = fields
            .iter()
            .map(|field| {
                let mut report = match value_of(&doc, field) {
                    Some(value) => check(&doc, &bytes, field, value, trusted),
                    None => SignatureReport { field: field.name.clone(), ..SignatureReport::default() },
                };
                let end = end_of(field);
                report.later_signatures = ends.iter().filter(|&&other| other > end).count();
                report.changes_after_signing = match (report.covers_whole_document, report.later_signatures) {
                    (true, _) => "none",
                    (false, later) if later > 0 && newest_covers_file => "signed",
                    _ => "unsigned",
                }
                .into();
                report
            })
            .collect();
        let valid = signatures
            .iter()
            .filter(|s| {
                s.intact
                    && s.certificate_valid
                    && s.trusted
                    && s.problems.is_empty()
                    && s.changes_after_signing != "unsigned"
            })
            .count();
        Ok(VerifyReport { signatures, valid, trust_store: !trusted.is_empty() })
    })
}

/// The names of the document's form fields (full names, `parent.child`).
pub(crate) fn field_names(doc: &Document) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    walk_fields(doc, |name, _| {
        names.insert(name.to_owned());
    });
    names
}

/// How many signed signature fields the document has.
pub(crate) fn signature_count(doc: &Document) -> usize {
    signature_fields(doc).len()
}

/// A signature field: its full name and where its signature dictionary is.
struct SignatureField {
    name: String,
    value: SignatureValue,
}

enum SignatureValue {
    Object(ObjectId),
    Direct(Dictionary),
}

fn value_of<'a>(doc: &'a Document, field: &'a SignatureField) -> Option<&'a Dictionary> {
    match &field.value {
        SignatureValue::Object(id) => doc.get_dictionary(*id).ok(),
        SignatureValue::Direct(value) => Some(value),
    }
}

/// Signed signature fields, each signature once (fields sharing one value are one signature).
fn signature_fields(doc: &Document) -> Vec<SignatureField> {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    walk_fields(doc, |name, field| {
        let is_signature = field.get(b"FT").and_then(Object::as_name).is_ok_and(|ft| ft == b"Sig");
        let value = match field.get(b"V") {
            Ok(Object::Reference(id)) if doc.get_dictionary(*id).is_ok() => {
                if !seen.insert(*id) {
                    return;
                }
                SignatureValue::Object(*id)
            }
            Ok(Object::Dictionary(value)) => SignatureValue::Direct(value.clone()),
            _ => return,
        };
        if is_signature {
            found.push(SignatureField { name: name.to_owned(), value });
        }
    });
    // Oldest first: by where their signed bytes end.
    found.sort_by_key(|field| value_of(doc, field).and_then(byte_range).map_or(0, |r| r[2] + r[3]));
    found
}

fn resolve<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

/// Calls `visit` with each terminal field's full name and dictionary (inherited `/FT` copied in).
fn walk_fields(doc: &Document, mut visit: impl FnMut(&str, &Dictionary)) {
    let Ok(root) = doc.catalog() else { return };
    let Some(form) = root.get(b"AcroForm").ok().and_then(|f| resolve(doc, f)).and_then(|f| f.as_dict().ok()) else {
        return;
    };
    let Some(fields) = form.get(b"Fields").ok().and_then(|f| resolve(doc, f)).and_then(|f| f.as_array().ok()) else {
        return;
    };
    let mut seen = BTreeSet::new();
    let mut stack: Vec<(ObjectId, String, Option<Vec<u8>>, usize)> =
        fields.iter().rev().filter_map(|f| f.as_reference().ok()).map(|id| (id, String::new(), None, 0)).collect();
    while let Some((id, parent, inherited_type, depth)) = stack.pop() {
        if depth > MAX_DEPTH || !seen.insert(id) {
            continue;
        }
        let Ok(field) = doc.get_dictionary(id) else { continue };
        // Named as `form_fields` names them.
        let partial = field.get(b"T").ok().and_then(decode_text);
        let name = match (parent.is_empty(), partial) {
            (_, None) => parent.clone(),
            (true, Some(partial)) => partial,
            (false, Some(partial)) => format!("{parent}.{partial}"),
        };
        let field_type = field.get(b"FT").and_then(Object::as_name).ok().map(<[u8]>::to_vec).or(inherited_type);
        let kids: Vec<ObjectId> = field
            .get(b"Kids")
            .ok()
            .and_then(|k| resolve(doc, k))
            .and_then(|k| k.as_array().ok())
            .map(|kids| kids.iter().filter_map(|k| k.as_reference().ok()).collect())
            .unwrap_or_default();
        // Kids without names are the field's widgets: the field itself is terminal.
        let named_kids: Vec<ObjectId> =
            kids.into_iter().filter(|kid| doc.get_dictionary(*kid).is_ok_and(|k| k.has(b"T"))).collect();
        if named_kids.is_empty() {
            let mut terminal = field.clone();
            if let Some(field_type) = &field_type {
                terminal.set("FT", Object::Name(field_type.clone()));
            }
            visit(&name, &terminal);
        }
        for kid in named_kids.into_iter().rev() {
            stack.push((kid, name.clone(), field_type.clone(), depth + 1));
        }
    }
}

/// `/ByteRange` as four offsets, when it is four non-negative integers.
fn byte_range(value: &Dictionary) -> Option<[usize; 4]> {
    let items = value.get(b"ByteRange").and_then(Object::as_array).ok()?;
    let numbers: Vec<usize> =
        items.iter().filter_map(|item| item.as_i64().ok()).filter_map(|n| usize::try_from(n).ok()).collect();
    numbers.try_into().ok()
}

fn text_entry(value: &Dictionary, key: &[u8]) -> Option<String> {
    value.get(key).ok().and_then(decode_text)
}

fn check(
    doc: &Document,
    bytes: &[u8],
    field: &SignatureField,
    value: &Dictionary,
    trusted: &[Certificate],
) -> SignatureReport {
    let mut report = SignatureReport {
        field: field.name.clone(),
        sub_filter: value.get(b"SubFilter").and_then(Object::as_name).ok().map(|n| String::from_utf8_lossy(n).into()),
        reason: text_entry(value, b"Reason"),
        location: text_entry(value, b"Location"),
        contact: text_entry(value, b"ContactInfo"),
        signing_time: text_entry(value, b"M").and_then(|m| pdf_date(&m)).map(rfc3339),
        ..SignatureReport::default()
    };
    let offset = match field.value {
        SignatureValue::Object(id) => match doc.reference_table.get(id.0) {
            Some(XrefEntry::Normal { offset, .. }) => Some(usize::try_from(*offset).unwrap_or(usize::MAX)),
            _ => None,
        },
        SignatureValue::Direct(_) => None,
    };
    if let Err(problem) = check_signature(bytes, value, offset, trusted, &mut report) {
        report.intact = false;
        report.problems.push(problem);
    }
    if report.trust.is_empty() {
        report.trust = "the certificate could not be checked".into();
    }
    report
}

/// The bytes of a hex string's digits (whitespace between them allowed; an odd last digit
/// taken as followed by 0, as readers do), or `None` when anything else is there.
fn hex_digits(text: &[u8]) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|&b| char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok()))
        .collect::<Option<_>>()?;
    Some(digits.chunks(2).map(|pair| pair[0] << 4 | pair.get(1).copied().unwrap_or(0)).collect())
}

fn check_signature(
    bytes: &[u8],
    value: &Dictionary,
    offset: Option<usize>,
    trusted: &[Certificate],
    report: &mut SignatureReport,
) -> Result<(), String> {
    let [start, first_len, second, second_len] = byte_range(value).ok_or("its /ByteRange is not four offsets")?;
    let end = second.checked_add(second_len).filter(|&end| end <= bytes.len());
    let (Some(end), 0) = (end, start) else { return Err("its /ByteRange lies outside the file".into()) };
    if first_len + 2 > second || bytes.get(first_len) != Some(&b'<') || bytes.get(second - 1) != Some(&b'>') {
        return Err("its /ByteRange does not leave out exactly the signature value".into());
    }
    let contents = value.get(b"Contents").and_then(Object::as_str).map_err(|_| "it has no /Contents")?;
    // What is left out must be this signature's own value and nothing else, and the dictionary
    // holding it must begin inside the signed bytes: otherwise unsigned content could be slipped
    // into the gap (signature wrapping).
    if hex_digits(&bytes[first_len + 1..second - 1]).as_deref() != Some(contents) {
        return Err("the bytes its /ByteRange leaves out are not its signature value".into());
    }
    if offset.is_some_and(|offset| offset >= first_len) {
        return Err("its signature dictionary lies outside the bytes it signs".into());
    }
    report.covers_whole_document = bytes[end..].iter().all(u8::is_ascii_whitespace);
    report.modified_after_signing = !report.covers_whole_document;
    let mut reader = SliceReader::new(contents).map_err(|e| e.to_string())?;
    let info = ContentInfo::decode(&mut reader).map_err(|e| format!("its CMS signature is unreadable ({e})"))?;
    let signed: SignedData = info.content.decode_as().map_err(|e| format!("its CMS signature is unreadable ({e})"))?;
    let signer = signed.signer_infos.0.iter().next().ok_or("its CMS signature has no signer")?;
    let certificates = certificates_of(&signed);
    let certificate =
        signer_certificate(signer, &certificates).ok_or("the signer's certificate is not in the signature")?;
    report.signer = Some(common_name(certificate));
    report.subject = Some(certificate.tbs_certificate.subject.to_string());
    report.issuer = Some(certificate.tbs_certificate.issuer.to_string());
    report.serial = Some(hex::encode_upper(certificate.tbs_certificate.serial_number.as_bytes()));
    let hash = Hash::of_oid(&signer.digest_alg.oid).ok_or("its digest algorithm is not supported")?;
    report.digest_algorithm = Some(hash.name().into());

    let document_digest = hash.digest([&bytes[..first_len], &bytes[second..end]]);
    // `adbe.pkcs7.sha1` signs a SHA-1 of the document held as the content; the others sign the
    // document itself, detached.
    let content_digest = match &signed.encap_content_info.econtent {
        Some(content) => {
            let held: OctetString = content.decode_as().map_err(|e| e.to_string())?;
            if held.as_bytes() != Hash::Sha1.digest([&bytes[..first_len], &bytes[second..end]]) {
                return Err("the document was changed after it was signed (its SHA-1 differs)".into());
            }
            hash.digest([held.as_bytes()])
        }
        None => document_digest,
    };
    let signed_message = match &signer.signed_attrs {
        Some(attributes) => {
            let digest =
                attribute_value::<OctetString>(attributes, &MESSAGE_DIGEST).ok_or("it has no message digest")?;
            if digest.as_bytes() != content_digest.as_slice() {
                return Err("the document was changed after it was signed (its digest differs)".into());
            }
            if let Some(essential) = attribute_value::<SigningCertificateV2>(attributes, &SIGNING_CERTIFICATE_V2)
                && !essential.names(certificate)
            {
                return Err(
                    "its signing-certificate attribute names another certificate than the one it carries".into()
                );
            }
            if let Some(time) = signing_time(attributes) {
                report.signing_time = Some(rfc3339(time));
            }
            attributes.to_der().map_err(|e| e.to_string())?
        }
        None => [&bytes[..first_len], &bytes[second..end]].concat(),
    };
    let key = &certificate.tbs_certificate.subject_public_key_info;
    let signature = signer.signature.as_bytes();
    if !verifies(key, &signer.signature_algorithm.oid, Some(hash), &signed_message, signature)? {
        return Err("its signature does not verify with the certificate's key".into());
    }
    report.intact = true;
    if hash == Hash::Sha1 || is_sha1(&signer.signature_algorithm.oid) {
        report.problems.push("it is made with SHA-1, which no longer protects against forgery".into());
    }

    report.timestamp = signer.unsigned_attrs.as_ref().and_then(|attributes| {
        let token = attribute_value::<ContentInfo>(attributes, &TIMESTAMP_TOKEN)?;
        Some(timestamp(&token, signature, trusted))
    });
    // Only a time the trust store vouches for stands in for now: the signer's own clock (`/M`)
    // could say anything.
    let at = report
        .timestamp
        .as_ref()
        .filter(|t| t.intact && t.trusted)
        .and_then(|t| DateTime::parse_from_rfc3339(&t.time).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    let (not_before, not_after) = validity(certificate);
    report.certificate_valid = (not_before..=not_after).contains(&at);
    if !report.certificate_valid {
        report.problems.push(format!(
            "the certificate is not valid at {} (valid from {} to {})",
            rfc3339(at),
            rfc3339(not_before),
            rfc3339(not_after)
        ));
    }
    (report.trusted, report.trust) = chain(certificate, &certificates, trusted, at);
    Ok(())
}

/// The certificates a CMS `SignedData` carries.
fn certificates_of(signed: &SignedData) -> Vec<Certificate> {
    signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(certificate) => Some(certificate.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect()
}

/// The certificate `signer` names, among `certificates`.
fn signer_certificate<'a>(signer: &SignerInfo, certificates: &'a [Certificate]) -> Option<&'a Certificate> {
    match &signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => certificates
            .iter()
            .find(|c| c.tbs_certificate.issuer == id.issuer && c.tbs_certificate.serial_number == id.serial_number),
        SignerIdentifier::SubjectKeyIdentifier(id) => certificates.iter().find(|c| {
            let key = c.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
            // RFC 5280's method 1: the SHA-1 of the public key.
            Hash::Sha1.digest([key]) == id.0.as_bytes()
        }),
    }
}

fn attribute_value<T: for<'a> Decode<'a>>(
    attributes: &x509_cert::attr::Attributes,
    oid: &der::asn1::ObjectIdentifier,
) -> Option<T> {
    let attribute = attributes.iter().find(|a| a.oid == *oid)?;
    T::from_der(&attribute.values.iter().next()?.to_der().ok()?).ok()
}

fn signing_time(attributes: &x509_cert::attr::Attributes) -> Option<DateTime<Utc>> {
    let attribute = attributes.iter().find(|a| a.oid == SIGNING_TIME)?;
    let value = attribute.values.iter().next()?;
    let time = value
        .decode_as::<UtcTime>()
        .map(|t| t.to_system_time())
        .or_else(|_| value.decode_as::<GeneralizedTime>().map(|t| t.to_system_time()))
        .ok()?;
    Some(utc(time))
}

/// What a time-stamp token says, and whether it holds: it is over `signature`, its own
/// signature verifies, and the authority chains to the trust store.
fn timestamp(token: &ContentInfo, signature: &[u8], trusted: &[Certificate]) -> TimestampReport {
    let unreadable = TimestampReport { time: String::new(), authority: None, intact: false, trusted: false };
    let Ok(info) = tst_info(token) else { return unreadable };
    let time = rfc3339(utc(info.gen_time.to_system_time()));
    let imprint_matches = Hash::of_oid(&info.message_imprint.hash_algorithm.oid)
        .is_some_and(|hash| hash.digest([signature]) == info.message_imprint.hashed_message.as_bytes());
    let Some((authority, verifies, trusted)) = token_signature(token, trusted) else {
        return TimestampReport { time, ..unreadable };
    };
    TimestampReport { time, authority: Some(authority), intact: imprint_matches && verifies, trusted }
}

/// The authority's name, whether the token's own CMS signature verifies, and whether the
/// authority's certificate chains to the trust store (at the token's time).
fn token_signature(token: &ContentInfo, trusted: &[Certificate]) -> Option<(String, bool, bool)> {
    let signed: SignedData = token.content.decode_as().ok()?;
    let signer = signed.signer_infos.0.iter().next()?;
    let certificates = certificates_of(&signed);
    let certificate = signer_certificate(signer, &certificates)?;
    let hash = Hash::of_oid(&signer.digest_alg.oid)?;
    let content: OctetString = signed.encap_content_info.econtent.as_ref()?.decode_as().ok()?;
    let attributes = signer.signed_attrs.as_ref()?;
    let digest = attribute_value::<OctetString>(attributes, &MESSAGE_DIGEST)?;
    let message = attributes.to_der().ok()?;
    let key = &certificate.tbs_certificate.subject_public_key_info;
    let verified = digest.as_bytes() == hash.digest([content.as_bytes()])
        && verifies(key, &signer.signature_algorithm.oid, Some(hash), &message, signer.signature.as_bytes())
            .unwrap_or(false);
    let at = tst_info(token).map_or_else(|_| Utc::now(), |info| utc(info.gen_time.to_system_time()));
    let (not_before, not_after) = validity(certificate);
    let chained = (not_before..=not_after).contains(&at) && chain(certificate, &certificates, trusted, at).0;
    Some((common_name(certificate), verified, chained))
}

/// Whether `certificate` chains, through `pool`, to a certificate of `trusted`, and why. Every
/// certificate that issues another must be a CA (basic constraints, and key usage when given)
/// valid at `at`, and no link may be signed with SHA-1.
fn chain(
    certificate: &Certificate,
    pool: &[Certificate],
    trusted: &[Certificate],
    at: DateTime<Utc>,
) -> (bool, String) {
    if trusted.is_empty() {
        return (false, "no trust store is configured".into());
    }
    let valid_at = |c: &Certificate| {
        let (not_before, not_after) = validity(c);
        (not_before..=not_after).contains(&at)
    };
    let mut current = certificate;
    for _ in 0..MAX_DEPTH {
        if trusted.iter().any(|anchor| anchor == current) {
            return (true, format!("{} is in the trust store", common_name(current)));
        }
        if let Some(anchor) = trusted.iter().find(|anchor| may_issue(anchor) && issued_by(current, anchor)) {
            return (true, format!("issued under {}, which is in the trust store", common_name(anchor)));
        }
        match pool.iter().find(|next| *next != current && may_issue(next) && issued_by(current, next)) {
            Some(next) if valid_at(next) => current = next,
            Some(next) => {
                return (
                    false,
                    format!("the issuing certificate {} is not valid at {}", common_name(next), rfc3339(at)),
                );
            }
            None => break,
        }
    }
    let issuer = current.tbs_certificate.issuer.to_string();
    (false, format!("the chain ends at {issuer}, which is not in the trust store (or is not a CA)"))
}

/// `D:YYYYMMDDHHmmSS+HH'mm'` (every part after the year optional).
fn pdf_date(text: &str) -> Option<DateTime<Utc>> {
    let digits = text.trim().strip_prefix("D:").unwrap_or(text.trim());
    let (stamp, zone) = digits.split_at(digits.find(['Z', '+', '-']).unwrap_or(digits.len()));
    let field =
        |range: std::ops::Range<usize>, default: u32| stamp.get(range).map_or(Some(default), |s| s.parse().ok());
    let year: i32 = stamp.get(0..4)?.parse().ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(year, field(4..6, 1)?, field(6..8, 1)?)?;
    let naive = date.and_hms_opt(field(8..10, 0)?, field(10..12, 0)?, field(12..14, 0)?)?;
    let offset_minutes = match zone.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let rest: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
            let hours: i64 = rest.get(0..2).and_then(|h| h.parse().ok()).unwrap_or(0);
            let minutes: i64 = rest.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let total = hours * 60 + minutes;
            if sign == '-' { -total } else { total }
        }
        _ => 0,
    };
    Some(naive.and_utc() - chrono::Duration::minutes(offset_minutes))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
