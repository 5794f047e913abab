package io.vsock4j.conformance;

/**
 * Where Linux kernels before {@link #fixedIn} behave otherwise than current Linux, which the Java engine
 * follows: the release that changed it, the commit that did, what the old kernel shows instead (text its
 * failure must contain) and why. On such a kernel the case must fail with that symptom and is reported
 * as {@code DIFFERS}; on any other provider it must pass. The difference lies in the calls of one half
 * ({@link #half}): when the two halves run on different providers (a guest's kernel and the JVM across
 * its vsock device), only the kernel that runs that half decides. Immutable.
 *
 * @param fixedIn the first mainline release with the current behaviour, "major.minor"
 * @param commit  the mainline commit (short hash and subject) that brought it
 * @param symptom what an older kernel's failure message contains, e.g. an errno name
 * @param why     one line: what the older kernel does
 * @param half    the half whose own calls behave otherwise on the older kernel
 */
public record KernelDifference(String fixedIn, String commit, String symptom, String why, Half half) {
    /** A case's client or server half. */
    public enum Half { CLIENT, SERVER }

    /** Whether a kernel of {@code release} (uname -r, e.g. "6.1.0-57-amd64") predates the change; false for null. */
    public boolean appliesTo(String release) {
        return release != null && compare(release, fixedIn) < 0;
    }

    /** "differs on Linux before 6.6: why". */
    public String describe() {
        return "differs on Linux before " + fixedIn + ": " + why;
    }

    /** Compares the leading "major.minor" of two releases. */
    static int compare(String a, String b) {
        int[] x = majorMinor(a);
        int[] y = majorMinor(b);
        return x[0] != y[0] ? Integer.compare(x[0], y[0]) : Integer.compare(x[1], y[1]);
    }

    private static int[] majorMinor(String release) {
        String[] parts = release.split("[^0-9]+", 3);
        if (parts.length < 2) {
            throw new IllegalArgumentException("not a kernel release: '" + release + "'");
        }
        return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
    }
}
