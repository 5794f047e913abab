package io.vsock4j.transport.kernel;

import org.junit.jupiter.api.extension.ExtendWith;

import io.vsock4j.MessageFlags;
import io.vsock4j.MessageInfo;
import io.vsock4j.VsockAddress;
import io.vsock4j.VsockSeqpacketServerSocket;
import io.vsock4j.VsockSeqpacketSocket;
import io.vsock4j.VsockServerSocket;
import io.vsock4j.VsockSocket;
import io.vsock4j.SocketProvider;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * vsock4j's kernel provider against peers nobody here wrote: ncat, socat and Python's socket module,
 * over the guest kernel's loopback (CID 1). Bytes are compared by SHA-256. Inside the guest only.
 */
@ExtendWith(GuestOnly.class)
public class InteropGuestCases {
    private static final AtomicInteger NEXT_PORT = new AtomicInteger(30_000);
    private static final int STREAM_BYTES = 512 << 10;

    private final SocketProvider provider = KernelVsock.provider();

    /**
     * One stream transfer with a tool: the tool listens or connects, sends or receives.
     * {@code %P} in the command is the port; the tool reads stdin from the input file or writes stdout to the output file.
     */
    @ParameterizedTest(name = "{0} {1}, tool {2}")
    @CsvSource({
            "ncat,  listens,  receives, ncat --vsock -l %P --recv-only",
            "ncat,  listens,  sends,    ncat --vsock -l %P --send-only",
            "ncat,  connects, receives, ncat --vsock 1 %P --recv-only",
            "ncat,  connects, sends,    ncat --vsock 1 %P --send-only",
            "socat, listens,  receives, socat -u VSOCK-LISTEN:%P STDOUT",
            "socat, listens,  sends,    socat -u STDIN VSOCK-LISTEN:%P",
            "socat, connects, receives, socat -u VSOCK-CONNECT:1:%P STDOUT",
            "socat, connects, sends,    socat -u STDIN VSOCK-CONNECT:1:%P",
    })
    void streamBytesSurviveBothWays(String tool, String role, String toolDirection, String command) throws Exception {
        int port = NEXT_PORT.getAndIncrement();
        boolean toolSends = toolDirection.equals("sends");
        byte[] data = new byte[STREAM_BYTES];
        new Random(port).nextBytes(data);
        Path in = Files.createTempFile("interop-in", ".bin");
        Path out = Files.createTempFile("interop-out", ".bin");
        Files.write(in, toolSends ? data : new byte[0]);
        ProcessBuilder pb = new ProcessBuilder(command.replace("%P", Integer.toString(port)).split(" "))
                .redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT);
        byte[] received;
        GuestOnly.require(command); // never a vsock tool on the host, whatever selected this test
        if (role.equals("listens")) {
            Process p = pb.start();
            try (VsockSocket s = connectWhenListening(port)) {
                received = exchange(s, toolSends, data);
            }
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(tool + " exited").isTrue();
        } else {
            try (VsockServerSocket server = VsockServerSocket.bind(provider, VsockAddress.of(VsockAddress.CID_ANY, port))) {
                server.setSoTimeout(30_000);
                Process p = pb.start();
                try (VsockSocket s = server.accept()) {
                    received = exchange(s, toolSends, data);
                }
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(tool + " exited").isTrue();
            }
        }
        if (!toolSends) {
            received = Files.readAllBytes(out);
        }
        assertThat(sha256(received)).as("SHA-256 of what %s %s", tool, toolSends ? "sent" : "received")
                .isEqualTo(sha256(data));
    }

    /** vsock4j's side: read to EOF when the tool sends, else write everything and half-close, then wait for EOF. */
    private static byte[] exchange(VsockSocket s, boolean toolSends, byte[] data) throws IOException {
        if (toolSends) {
            return s.getInputStream().readAllBytes();
        }
        OutputStream o = s.getOutputStream();
        o.write(data);
        s.shutdownOutput();
        s.setSoTimeout(60_000);
        s.getInputStream().readAllBytes(); // the tool closes when it has seen EOF
        return null;
    }

    private VsockSocket connectWhenListening(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                return VsockSocket.connect(provider, VsockAddress.local(port));
            } catch (ConnectException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(50);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // SEQPACKET with Python

    private static final String PYTHON_PEER = String.join("\n",
            "import socket, sys, hashlib, random",
            "mode, port = sys.argv[1], int(sys.argv[2])",
            "s = socket.socket(socket.AF_VSOCK, socket.SOCK_SEQPACKET)",
            "s.connect((1, port))",
            "if mode == 'send':",
            "    rnd = random.Random(port)",
            "    for i in range(60):",
            "        n = rnd.randint(1, 30000); eor = rnd.random() < 0.5",
            "        data = rnd.randbytes(n)",
            "        s.sendmsg([data], [], socket.MSG_EOR if eor else 0)",
            "        print(n, int(eor), hashlib.sha256(data).hexdigest())",
            "else:",
            "    while True:",
            "        data, anc, flags, addr = s.recvmsg(1 << 17)",
            "        if not data: break",
            "        print(len(data), int(bool(flags & socket.MSG_EOR)), hashlib.sha256(data).hexdigest())",
            "s.close()");

    @Test
    void pythonSendsSeqpacketMessagesWithRecordEnds() throws Exception {
        int port = NEXT_PORT.getAndIncrement();
        try (VsockSeqpacketServerSocket server = VsockSeqpacketServerSocket.bind(provider, VsockAddress.of(VsockAddress.CID_ANY, port))) {
            server.setSoTimeout(30_000);
            Process python = python("send", port);
            List<String> got = new ArrayList<>();
            try (VsockSeqpacketSocket s = server.accept()) {
                byte[] buf = new byte[1 << 17];
                MessageInfo info = new MessageInfo();
                int n;
                while ((n = s.receive(buf, 0, buf.length, 0, info)) > 0) {
                    assertThat(info.truncated()).isFalse();
                    got.add(n + " " + (info.endOfRecord() ? 1 : 0) + " " + hex(sha256(buf, n)));
                }
            }
            List<String> expected = lines(python);
            assertThat(expected).hasSize(60);
            assertThat(got).isEqualTo(expected);
        }
    }

    @Test
    void pythonReceivesSeqpacketMessagesWithRecordEnds() throws Exception {
        int port = NEXT_PORT.getAndIncrement();
        try (VsockSeqpacketServerSocket server = VsockSeqpacketServerSocket.bind(provider, VsockAddress.of(VsockAddress.CID_ANY, port))) {
            server.setSoTimeout(30_000);
            Process python = python("recv", port);
            List<String> sent = new ArrayList<>();
            Random random = new Random(port);
            try (VsockSeqpacketSocket s = server.accept()) {
                for (int i = 0; i < 60; i++) {
                    byte[] m = new byte[1 + random.nextInt(30_000)];
                    random.nextBytes(m);
                    boolean eor = random.nextBoolean();
                    s.send(m, 0, m.length, eor ? MessageFlags.MSG_EOR : 0);
                    sent.add(m.length + " " + (eor ? 1 : 0) + " " + hex(sha256(m, m.length)));
                }
            }
            assertThat(lines(python)).isEqualTo(sent);
        }
    }

    private static Process python(String mode, int port) throws IOException {
        GuestOnly.require("the Python vsock peer");
        return new ProcessBuilder("python3", "-c", PYTHON_PEER, mode, Integer.toString(port))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static List<String> lines(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("python exit status").isZero();
        return out.lines().toList();
    }

    private static byte[] sha256(byte[] b) throws Exception {
        return sha256(b, b.length);
    }

    private static byte[] sha256(byte[] b, int n) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        d.update(b, 0, n);
        return d.digest();
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
