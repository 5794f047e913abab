package io.vsock4j.cli.proxy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The allowlist: vsock-proxy's YAML read as vsock-proxy writes it, and the check on addresses and ports,
 * with a resolver that answers from a table (no DNS).
 */
@Timeout(30)
class AllowlistTest {
    @TempDir
    Path dir;

    private static final Resolver.Family ANY = Resolver.Family.ANY;

    /** A resolver from a table; a name not in it is unknown, and asking for one is recorded. */
    private static Resolver table(Map<String, List<String>> names, List<String> asked) {
        return host -> {
            asked.add(host);
            List<String> a = names.get(host.toLowerCase(java.util.Locale.ROOT)); // as DNS: names ignore case
            if (a == null) {
                throw new UnknownHostException(host);
            }
            return a.stream().map(InetAddress::ofLiteral).toList();
        };
    }

    private Allowlist load(String yaml) throws IOException {
        Path f = dir.resolve("vsock-proxy.yaml");
        Files.writeString(f, yaml);
        return Allowlist.load(f);
    }

    @Test
    void readsVsockProxysOwnFormats() throws IOException {
        Allowlist flow = load("allowlist:\n- {address: kms.us-east-1.amazonaws.com, port: 443}\n- {address: 10.0.0.5, port: 5432}\n");
        Allowlist block = load("allowlist:\n  - address: kms.us-east-1.amazonaws.com\n    port: 443\n");
        assertThat(flow.entries()).containsExactly(new Allowlist.Entry("kms.us-east-1.amazonaws.com", 443),
                new Allowlist.Entry("10.0.0.5", 5432));
        assertThat(block.entries()).containsExactly(new Allowlist.Entry("kms.us-east-1.amazonaws.com", 443));
    }

    @Test
    void malformedFilesAreOneLineErrorsNamingTheFile() {
        assertThatThrownBy(() -> load("services: []\n")).hasMessageContaining("vsock-proxy.yaml: no 'allowlist:' list");
        assertThatThrownBy(() -> load("allowlist:\n- {address: a.example}\n")).hasMessageContaining("entry 1 has no port");
        assertThatThrownBy(() -> load("allowlist:\n- {address: a.example, port: 70000}\n")).hasMessageContaining("entry 1 has no port");
        assertThatThrownBy(() -> load("allowlist:\n- {port: 443}\n")).hasMessageContaining("entry 1 has no address");
        assertThatThrownBy(() -> load("allowlist: [\n")).hasMessageContaining("not YAML").hasMessageNotContaining("\n");
        assertThatThrownBy(() -> Allowlist.load(dir.resolve("absent.yaml"))).hasMessageContaining("absent.yaml: no such file");
    }

    /** Found by AllowlistFuzzTest: SnakeYAML throws IllegalArgumentException, not YAMLException, for this tag. */
    @Test
    void aTagWithABadPercentEscapeIsNotYamlRatherThanACrash() {
        assertThatThrownBy(() -> load("!-%3")).isInstanceOf(IOException.class)
                .hasMessageContaining("vsock-proxy.yaml: not YAML").hasMessageNotContaining("\n");
    }

    @Test
    void admitsAListedAddressOnItsPortOnly() throws IOException {
        Allowlist list = load("allowlist:\n- {address: 127.0.0.1, port: 9000}\n");
        Resolver none = table(Map.of(), new java.util.ArrayList<>());
        assertThat(list.admit("127.0.0.1", 9000, none, ANY)).isEqualTo(InetAddress.ofLiteral("127.0.0.1"));
        assertThatThrownBy(() -> list.admit("127.0.0.1", 9001, none, ANY)).isInstanceOf(Allowlist.Refused.class)
                .hasMessageContaining("127.0.0.1:9001 is not on the allowlist").hasMessageContaining("no entry has port 9001");
        assertThatThrownBy(() -> list.admit("127.0.0.2", 9000, none, ANY)).isInstanceOf(Allowlist.Refused.class)
                .hasMessageContaining("127.0.0.2:9000 is not on the allowlist");
    }

    @Test
    void aNameIsCheckedByTheAddressItResolvesToEachTime() throws IOException {
        Allowlist list = load("allowlist:\n- {address: 127.0.0.1, port: 9000}\n");
        List<String> asked = new java.util.ArrayList<>();
        Map<String, List<String>> dns = new java.util.HashMap<>(Map.of("svc.test", List.of("127.0.0.1")));
        Resolver r = table(dns, asked);
        assertThat(list.admit("svc.test", 9000, r, ANY)).isEqualTo(InetAddress.ofLiteral("127.0.0.1"));
        dns.put("svc.test", List.of("10.9.9.9"));
        assertThatThrownBy(() -> list.admit("svc.test", 9000, r, ANY)).isInstanceOf(Allowlist.Refused.class)
                .hasMessageContaining("svc.test:9000 is not on the allowlist").hasMessageContaining("10.9.9.9");
        assertThat(asked).as("the IP entry needs no resolver").containsOnly("svc.test");
    }

    @Test
    void aListedNameStandsForItsAddressesAndOtherNamesMustResolveIntoThem() throws IOException {
        Allowlist list = load("allowlist:\n- {address: api.test, port: 443}\n");
        Map<String, List<String>> dns = new java.util.HashMap<>(Map.of("api.test", List.of("192.0.2.1", "192.0.2.2"),
                "alias.test", List.of("192.0.2.2"), "other.test", List.of("198.51.100.7")));
        Resolver r = table(dns, new java.util.ArrayList<>());
        assertThat(list.admit("API.test", 443, r, ANY)).isEqualTo(InetAddress.ofLiteral("192.0.2.1"));
        assertThat(list.admit("alias.test", 443, r, ANY)).isEqualTo(InetAddress.ofLiteral("192.0.2.2"));
        assertThat(list.admit("192.0.2.2", 443, r, ANY)).isEqualTo(InetAddress.ofLiteral("192.0.2.2"));
        assertThatThrownBy(() -> list.admit("other.test", 443, r, ANY)).isInstanceOf(Allowlist.Refused.class);
        assertThatThrownBy(() -> list.admit("nowhere.test", 443, r, ANY)).isInstanceOf(UnknownHostException.class);
    }

    @Test
    void familyPicksAddressesOfOneKind() throws IOException {
        Allowlist list = load("allowlist:\n- {address: dual.test, port: 80}\n");
        Resolver r = table(Map.of("dual.test", List.of("::1", "127.0.0.1"), "v6.test", List.of("::1")), new java.util.ArrayList<>());
        assertThat(list.admit("dual.test", 80, r, Resolver.Family.IPV4)).isEqualTo(InetAddress.ofLiteral("127.0.0.1"));
        assertThat(list.admit("dual.test", 80, r, Resolver.Family.IPV6)).isEqualTo(InetAddress.ofLiteral("::1"));
        assertThatThrownBy(() -> list.admit("v6.test", 80, r, Resolver.Family.IPV4)).isInstanceOf(UnknownHostException.class)
                .hasMessageContaining("no IPv4 address");
    }
}
