//! Ed25519 identities: public keys, secret keys and domain-separated signatures.
//!
//! Every signature confer makes covers `domain || payload`, where `domain` names the kind of
//! structure and its version (`confer/entry/v1`, …), so a signature over one kind of
//! structure can never be replayed as another. Verification of anything that came from
//! outside uses `verify_strict` (rejects small-order keys and non-canonical signatures).
//! Secret keys are built from 32-byte seeds: randomness comes from the caller. A secret key
//! never shows its seed in `Debug` and wipes it from memory when dropped; `seed()` hands out
//! a copy that wipes itself too.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A domain tag: the first bytes of every signed message of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Domain(pub &'static [u8]);

fn signed_message(domain: Domain, payload: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(domain.0.len() + 1 + payload.len());
    msg.extend_from_slice(domain.0);
    msg.push(0);
    msg.extend_from_slice(payload);
    msg
}

/// Why a key or signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not a valid Ed25519 public key")]
    InvalidKey,
    #[error("signature does not verify")]
    BadSignature,
    #[error("not a hex-encoded 32-byte key: {0}")]
    Parse(String),
}

/// An Ed25519 public key (32 bytes). Displays as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    pub const LEN: usize = 32;

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 8 hex digits, for logs and tables.
    pub fn fmt_short(&self) -> String {
        hex::encode(&self.0[..4])
    }

    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        VerifyingKey::from_bytes(&self.0).map_err(|_| KeyError::InvalidKey)
    }

    /// Strict verification of `signature` over `domain || payload`.
    pub fn verify(
        &self,
        domain: Domain,
        payload: &[u8],
        signature: &Signature,
    ) -> Result<(), KeyError> {
        let key = self.verifying_key()?;
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(&signed_message(domain, payload), &sig)
            .map_err(|_| KeyError::BadSignature)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fmt_short())
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = hex::decode(s.trim()).map_err(|_| KeyError::Parse(s.to_owned()))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Parse(s.to_owned()))?;
        Ok(Self(arr))
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signature (64 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", hex::encode(&self.0[..4]))
    }
}

/// An Ed25519 secret key. Never displayed; `Debug` shows only the public half. The seed is
/// wiped from memory when the key is dropped (ed25519-dalek's `zeroize` feature).
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// The key whose secret seed is `seed` (32 random bytes from the caller). This copy of
    /// the seed is wiped; the caller wipes its own (e.g. by holding it in `Zeroizing`).
    pub fn from_seed(mut seed: [u8; 32]) -> Self {
        let key = Self(SigningKey::from_bytes(&seed));
        seed.zeroize();
        key
    }

    /// A copy of the secret seed, wiped when dropped.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `domain || payload`.
    pub fn sign(&self, domain: Domain, payload: &[u8]) -> Signature {
        Signature(self.0.sign(&signed_message(domain, payload)).to_bytes())
    }
}

/// `SigningKey` wipes its secret on drop; this marks that `SecretKey` does too.
impl ZeroizeOnDrop for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public {}…)", self.public().fmt_short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Domain = Domain(b"confer/test/v1");

    #[test]
    fn sign_verify_and_domain_separation() {
        let sk = SecretKey::from_seed([7; 32]);
        let sig = sk.sign(D, b"hello");
        assert_eq!(sk.public().verify(D, b"hello", &sig), Ok(()));
        assert_eq!(
            sk.public().verify(D, b"hellO", &sig),
            Err(KeyError::BadSignature)
        );
        assert_eq!(
            sk.public()
                .verify(Domain(b"confer/other/v1"), b"hello", &sig),
            Err(KeyError::BadSignature)
        );
    }

    #[test]
    fn debug_shows_the_public_key_never_the_seed() {
        let seed: [u8; 32] = std::array::from_fn(|i| i as u8 * 7 + 3);
        let sk = SecretKey::from_seed(seed);
        let shown = format!("{sk:?} {sk:#?} {:?}", Some(&sk));
        let seed_hex = hex::encode(seed);
        assert!(!shown.contains(&seed_hex), "{shown}");
        // Not even a few bytes of it, in hex or as a byte list.
        assert!(!shown.contains(&seed_hex[..8]), "{shown}");
        assert!(!shown.contains("3, 10, 17"), "{shown}");
        assert!(shown.contains(&sk.public().fmt_short()), "{shown}");
        assert_eq!(*sk.seed(), seed);
        fn wipes_on_drop<T: ZeroizeOnDrop>(_: &T) {}
        wipes_on_drop(&sk);
    }

    #[test]
    fn hex_round_trip() {
        let pk = SecretKey::from_seed([1; 32]).public();
        assert_eq!(pk.to_string().parse::<PublicKey>(), Ok(pk));
        assert!("zz".parse::<PublicKey>().is_err());
        assert!("abcd".parse::<PublicKey>().is_err());
    }
}
