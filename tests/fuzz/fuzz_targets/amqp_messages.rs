//! Every message a process reads off RabbitMQ — validation jobs, results,
//! issue requests and replies — and the signature check in front of the
//! issue path: any bytes decode or are refused without a panic, and a
//! signature verifies only for the exact bytes it was made over.
#![no_main]

use cloudconn_infra::amqp::{
    issue::{IssueReply, IssueRequest},
    messages::{ValidationJob, ValidationResult},
    signing::{Context, MessageSigner, PeerKeys},
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(job) = serde_json::from_slice::<ValidationJob>(data) {
        let _ = job.is_well_formed();
    }
    let _ = serde_json::from_slice::<ValidationResult>(data);
    if let Ok(request) = serde_json::from_slice::<IssueRequest>(data) {
        let _ = request.is_well_formed();
        let _ = request.expired(0);
    }
    let _ = serde_json::from_slice::<IssueReply>(data);

    // Signatures: arbitrary "signature" text never verifies (the odds of
    // forging Ed25519 by fuzzing are nil), and the real one only for `data`.
    thread_local!(static SIGNER: MessageSigner = MessageSigner::generate());
    SIGNER.with(|signer| {
        let keys = PeerKeys::from_pem(&signer.public_pem()).unwrap();
        let text = String::from_utf8_lossy(data);
        assert!(!keys.verify(Context::IssueRequest, &[b"amq.gen-x", b"c", data], &text));
        let signature = signer.sign(Context::IssueRequest, &[b"amq.gen-x", b"c", data]);
        assert!(keys.verify(Context::IssueRequest, &[b"amq.gen-x", b"c", data], &signature));
        assert!(!keys.verify(Context::IssueReply, &[b"amq.gen-x", b"c", data], &signature));
        let _ = PeerKeys::from_pem(&text);
    });
});
