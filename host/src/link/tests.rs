//! The link against small acquirers made up in each test (the Python peer in
//! tests/acquirer/ is the independent one; these pin the transport's own cases).

use super::*;
use softpos_iso8583::{swap_tpdu, Mti, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUT: Duration = Duration::from_millis(700);

fn config(addr: &str) -> LinkConfig {
    LinkConfig {
        addr: addr.to_owned(),
        tpdu: [0x60, 0x00, 0x03, 0x00, 0x00],
        header: [0x60, 0x31, 0x00, 0x00, 0x00, 0x00],
        timeout: TIMEOUT,
    }
}

fn sale(trace: &str) -> Message {
    Message::new(Mti::new(200).unwrap())
        .with(3, Value::text("000000"))
        .with(4, Value::text("000000001000"))
        .with(11, Value::text(trace))
        .with(41, Value::text("10000001"))
        .with(42, Value::text("898310048160001"))
}

fn answer_to(request: &Frame, trace: Option<&str>) -> Vec<u8> {
    let m = &request.message;
    let answer = Message::new(m.mti.response().unwrap())
        .with(11, Value::text(trace.unwrap_or(m.text(11).unwrap())))
        .with(39, Value::text("00"))
        .with(41, Value::text(m.text(41).unwrap()));
    Spec::unionpay()
        .encode(&Frame {
            tpdu: swap_tpdu(request.tpdu),
            header: request.header,
            message: answer,
        })
        .unwrap()
}

async fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    (l, addr)
}

async fn read_request(stream: &mut TcpStream) -> Frame {
    read_frame(&Spec::unionpay(), stream).await.unwrap()
}

#[tokio::test]
async fn an_answer_written_a_byte_at_a_time_comes_out_whole() {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let request = read_request(&mut s).await;
        for byte in answer_to(&request, None) {
            s.write_all(&[byte]).await.unwrap();
            s.flush().await.unwrap();
        }
    });
    let link = PerRequest::new(config(&addr));
    let answer = link.exchange(sale("000001")).await.unwrap();
    assert_eq!(answer.message.text(39), Some("00"));
    assert_eq!(answer.tpdu, swap_tpdu(config(&addr).tpdu));
}

#[tokio::test]
async fn no_answer_in_time_is_a_timeout() {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let _ = read_request(&mut s).await;
        tokio::time::sleep(TIMEOUT * 3).await;
    });
    let link = PerRequest::new(config(&addr));
    let r = link.exchange(sale("000001")).await;
    assert!(
        matches!(r, Err(LinkError::Timeout)),
        "{:?}",
        r.map(|f| f.message)
    );
}

#[tokio::test]
async fn a_connection_dropped_mid_frame_is_no_answer() {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let request = read_request(&mut s).await;
        let bytes = answer_to(&request, None);
        s.write_all(&bytes[..bytes.len() / 2]).await.unwrap();
    });
    let link = PerRequest::new(config(&addr));
    assert!(matches!(
        link.exchange(sale("000001")).await,
        Err(LinkError::Io(_))
    ));
}

#[tokio::test]
async fn an_answer_for_another_trace_is_not_taken() {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let request = read_request(&mut s).await;
        s.write_all(&answer_to(&request, Some("000999")))
            .await
            .unwrap();
    });
    let link = PerRequest::new(config(&addr));
    assert!(matches!(
        link.exchange(sale("000001")).await,
        Err(LinkError::Mismatch)
    ));
}

#[tokio::test]
async fn nothing_listening_is_no_answer() {
    let (l, addr) = listener().await;
    drop(l);
    let link = PerRequest::new(config(&addr));
    assert!(matches!(
        link.exchange(sale("000001")).await,
        Err(LinkError::Io(_))
    ));
}

fn echo() -> EchoMessageFn {
    Box::new(|| {
        Message::new(Mti::new(820).unwrap())
            .with(11, Value::text("999999"))
            .with(41, Value::text("00000000"))
    })
}

type EchoMessageFn = persistent::EchoMessage;

#[tokio::test]
async fn a_persistent_link_matches_answers_out_of_order() {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let first = read_request(&mut s).await;
        let second = read_request(&mut s).await;
        s.write_all(&answer_to(&second, None)).await.unwrap();
        s.write_all(&answer_to(&first, None)).await.unwrap();
        tokio::time::sleep(TIMEOUT).await;
    });
    let link = Persistent::start(config(&addr), Duration::from_secs(60), echo());
    let (a, b) = tokio::join!(link.exchange(sale("000001")), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        link.exchange(sale("000002")).await
    });
    assert_eq!(a.unwrap().message.text(11), Some("000001"));
    assert_eq!(b.unwrap().message.text(11), Some("000002"));
}

#[tokio::test]
async fn a_late_answer_is_dropped_and_the_link_goes_on() {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let slow = read_request(&mut s).await;
        let next = read_request(&mut s).await;
        // The first caller has given up by now: its answer must not reach the second.
        s.write_all(&answer_to(&slow, None)).await.unwrap();
        s.write_all(&answer_to(&next, None)).await.unwrap();
        tokio::time::sleep(TIMEOUT).await;
    });
    let link = Persistent::start(config(&addr), Duration::from_secs(60), echo());
    let r = link.exchange(sale("000001")).await;
    assert!(
        matches!(r, Err(LinkError::Timeout)),
        "{:?}",
        r.map(|f| f.message)
    );
    let next = link.exchange(sale("000002")).await.unwrap();
    assert_eq!(next.message.text(11), Some("000002"));
}

#[tokio::test]
async fn a_broken_persistent_connection_fails_what_is_in_flight_and_reconnects() {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let _ = read_request(&mut s).await;
        drop(s);
        let (mut s, _) = l.accept().await.unwrap();
        let request = read_request(&mut s).await;
        s.write_all(&answer_to(&request, None)).await.unwrap();
        tokio::time::sleep(TIMEOUT).await;
    });
    let link = Persistent::start(config(&addr), Duration::from_secs(60), echo());
    assert!(matches!(
        link.exchange(sale("000001")).await,
        Err(LinkError::Io(_))
    ));
    let again = link.exchange(sale("000002")).await.unwrap();
    assert_eq!(again.message.text(39), Some("00"));
}

#[tokio::test]
async fn an_idle_persistent_link_sends_echoes() {
    let (l, addr) = listener().await;
    let (seen_tx, seen) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let request = read_request(&mut s).await;
        s.write_all(&answer_to(&request, None)).await.unwrap();
        let _ = seen_tx.send(request.message.mti.value());
        let mut rest = [0u8; 1];
        let _ = s.read(&mut rest).await;
    });
    let _link = Persistent::start(config(&addr), Duration::from_millis(50), echo());
    let mti = tokio::time::timeout(Duration::from_secs(5), seen)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mti, 820);
}
