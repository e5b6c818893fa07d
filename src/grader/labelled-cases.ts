/**
 * The grader's labelled suite: (gold, predicted, expected) triples written by hand for the
 * answer styles of every benchmark in ../shared/datasets, plus tricky negatives. One case per
 * line: `Y gold ≡ predicted` (equal) or `N gold ≡ predicted` (not equal); `# name` starts a
 * section. Kept as data so the bench and the tests read the same cases.
 */

export interface LabelledCase {
  section: string;
  gold: string;
  predicted: string;
  expected: boolean;
}

const CASES = String.raw`
# aime: integers, zero padding
Y 025 ≡ 25
Y 25 ≡ 025
Y 073 ≡ 73
Y 080 ≡ 80
Y 033 ≡ 33.0
Y 204 ≡ 204
Y 0 ≡ 000
Y 907 ≡ \boxed{907}
Y 468 ≡ 468.
Y 113 ≡ $113$
Y 735 ≡ 735 \text{ ways}
Y 55 ≡ n = 55
Y 62 ≡ m+n=62
Y 106 ≡ \text{106}
Y 16 ≡ 16 .
Y 504 ≡ 5.04 \times 10^2
N 025 ≡ 250
N 73 ≡ 37
N 735 ≡ 734
N 80 ≡ 8
N 204 ≡ -204
N 16 ≡ 16.5
N 279 ≡ 297
N 907 ≡ 9.07
N 588 ≡ 588.1

# amc: small integers and numbers stored as floats
Y 27 ≡ 27.0
Y 27.0 ≡ 27
Y -1 ≡ -1.0
Y 3159 ≡ 3,159
Y 1625 ≡ 1{,}625
Y 36 ≡ 6^2
Y 50 ≡ \frac{100}{2}
Y 4 ≡ \sqrt{16}
Y 9 ≡ 3^2
Y 194 ≡ 194\%
N -1 ≡ 1
N 36 ≡ 63
N 3159 ≡ 3,158
N 13 ≡ 1.3
N 7 ≡ 7.01
N 901 ≡ 910

# math500: fractions
Y \frac{1}{8} ≡ 0.125
Y \frac{1}{8} ≡ 1/8
Y \dfrac{17}{50} ≡ \frac{17}{50}
Y \dfrac{17}{50} ≡ 0.34
Y \frac43 ≡ \frac{4}{3}
Y \frac 59 ≡ 5/9
Y \frac9{19} ≡ \frac{9}{19}
Y \frac{14}{3} ≡ 4\frac{2}{3}
Y 137 \frac{1}{2} ≡ 137.5
Y 1\frac{4}{5} ≡ \frac{9}{5}
Y -\frac{35}{9} ≡ \frac{-35}{9}
Y -\frac{35}{9} ≡ -35/9
Y -\frac{3}{8} ≡ -0.375
Y \frac{3}{56} ≡ \tfrac{3}{56}
Y \frac{1}{2} ≡ \frac{2}{4}
Y \frac{1}{2} ≡ 0.5
Y \frac{1}{2} ≡ .5
Y \frac{448}{15625} ≡ 0.028672
Y \frac{2}{1005} ≡ \frac{4}{2010}
Y \frac{11+9a}{20} ≡ \frac{9a+11}{20}
Y \frac{11+9a}{20} ≡ \frac{11}{20}+\frac{9a}{20}
N \frac{1}{8} ≡ \frac{1}{7}
N \frac{1}{8} ≡ 8
N \frac{3}{56} ≡ \frac{56}{3}
N -\frac{35}{9} ≡ \frac{35}{9}
N \frac{14}{3} ≡ 4.67
N \frac{1}{3} ≡ 0.33
N \frac{1}{3} ≡ 0.333
N 137 \frac{1}{2} ≡ 68.5
N \frac{11+9a}{20} ≡ \frac{11+9a}{21}
N \frac{2}{3} ≡ 0.6667

# math500: radicals, pi, powers
Y 3\sqrt{13} ≡ \sqrt{117}
Y 2\sqrt{3} ≡ \sqrt{12}
Y 11\sqrt2 ≡ 11\sqrt{2}
Y 11\sqrt2 ≡ \sqrt{242}
Y \frac{\sqrt{2}}{2} ≡ \frac{1}{\sqrt2}
Y \frac{\sqrt{3}}{3} ≡ \frac{1}{\sqrt{3}}
Y \frac{\sqrt{3}}{3} ≡ \sqrt{3}/3
Y \frac{3\sqrt{3}}{4} ≡ \frac{3}{4}\sqrt{3}
Y 70 \sqrt{2} ≡ 70\sqrt{2}
Y 2\sqrt{113} ≡ \sqrt{452}
Y \frac{\sqrt{21}}{5} ≡ \sqrt{\frac{21}{25}}
Y 1+2\sqrt{3} ≡ 2\sqrt{3}+1
Y 11 \sqrt{5} + 11 ≡ 11(\sqrt{5}+1)
Y 3 \pm 2 \sqrt{2} ≡ 3+2\sqrt2, 3-2\sqrt2
Y 1 \pm \sqrt{19} ≡ 1 - \sqrt{19}, 1 + \sqrt{19}
Y \pi ≡ \pi
Y 288 \pi ≡ 288\pi
Y 18+2\pi ≡ 2\pi+18
Y 7\pi ≡ 7 \cdot \pi
Y \frac{20000}{\pi} ≡ 20000/\pi
Y -\frac{\pi}{6} ≡ -\pi/6
Y \frac{\pi}{2} ≡ \frac{1}{2}\pi
Y \sqrt[4]{\frac{64}{27}} ≡ \frac{2\sqrt{2}}{\sqrt[4]{27}}
Y \sqrt[3]{8} ≡ 2
Y 2^{1009} ≡ 2^{1009}
Y 2^{10} ≡ 1024
Y \frac{3^{2023} + 3}{4} ≡ \frac{3+3^{2023}}{4}
Y 6 \times 5^{2015} ≡ 6\cdot5^{2015}
Y 2017^2 ≡ 4068289
Y \frac{4 \cdot 999^{4}}{27} ≡ \frac{4\times 999^4}{27}
Y \frac{100!}{2^{50}} ≡ \frac{100!}{2^{50}}
N 3\sqrt{13} ≡ \sqrt{39}
N 2\sqrt{3} ≡ 3\sqrt{2}
N \frac{\sqrt{2}}{2} ≡ \sqrt{2}
N \frac{\sqrt{3}}{3} ≡ \sqrt{3}
N 1+2\sqrt{3} ≡ 1-2\sqrt{3}
N 3 \pm 2 \sqrt{2} ≡ 3+2\sqrt{2}
N \pi ≡ 3.14
N \pi ≡ 3.14159
N 288 \pi ≡ 288
N 7\pi ≡ 22
N 2^{1009} ≡ 2^{1008}
N \frac{3^{2023} + 3}{4} ≡ \frac{3^{2023} + 1}{4}
N 2017^2 ≡ 4068288
N \frac{1}{2004!} ≡ \frac{1}{2006!}
N \sqrt[3]{8} ≡ \sqrt{8}
N \frac{100!}{2^{50}} ≡ \frac{100!}{2^{49}}

# math500: complex numbers
Y 6 - 5i ≡ 6-5i
Y 6 - 5i ≡ -5i + 6
Y 6+9i ≡ 6 + 9 i
Y -2 + 7i ≡ 7i - 2
Y 1+274i ≡ 274i+1
Y 1 - 12i ≡ 1-12 i
Y 1+2i ≡ (1+2i)
Y 2i ≡ 2 i
Y 1+\sqrt{3} i ≡ 1+i\sqrt{3}
Y -2+2 \sqrt{3} i ≡ -2+2i\sqrt3
Y \ln 2 + i\pi / 3 ≡ \ln(2) + \frac{\pi i}{3}
N 6 - 5i ≡ 6+5i
N 6 - 5i ≡ 5i - 6
N 1+274i ≡ 274+i
N 2i ≡ 2
N 1+\sqrt{3} i ≡ 1+\sqrt{3}

# math500: degrees, percent, money, units, thousands
Y 90^\circ ≡ 90
Y 90^\circ ≡ 90^{\circ}
Y 90^\circ ≡ 90°
Y 90^\circ ≡ 90 \text{ degrees}
Y 145^\circ ≡ 145
Y 30^\circ ≡ \frac{\pi}{6}
Y \frac{270}7\text{ degrees} ≡ \frac{270}{7}
Y 75^\circ ≡ 75^{\circ}
Y 10\% ≡ 10
Y 10\% ≡ 0.1
Y 50\% ≡ \frac{1}{2}
Y \$32,\!348 ≡ 32348
Y \$32,\!348 ≡ \$32,348
Y \$18.90 ≡ 18.90
Y \$18.90 ≡ 18.9
Y \$36 ≡ 36
Y \$36 ≡ 36 \text{ dollars}
Y 10,\!080 ≡ 10080
Y 11,\! 111,\! 111,\! 100 ≡ 11111111100
Y 58,500 ≡ 58500
Y 1000 ≡ 1 000
Y 7425000 ≡ 7,425,000
Y 864 \mbox{ inches}^2 ≡ 864
Y 15\mbox{ cm}^2 ≡ 15
Y 5.4 \text{ cents} ≡ 5.4
Y 52_8 ≡ 52_{8}
Y 52_8 ≡ 52
Y 2516_8 ≡ 2516_{8}
Y 4210_{5} ≡ 4210_5
N 90^\circ ≡ 45
N 145^\circ ≡ 35^\circ
N 30^\circ ≡ \frac{\pi}{3}
N 10\% ≡ 0.01
N \$32,\!348 ≡ 32384
N 58,500 ≡ 5850
N 10,\!080 ≡ 1080
N 52_8 ≡ 42
N 52_8 ≡ 52_9
N 5.4 \text{ cents} ≡ 54

# math500: intervals and inequalities
Y (3,4] ≡ (3,4]
Y (3,4] ≡ \left(3, 4\right]
Y (2,\infty) ≡ (2, \infty)
Y (2,\infty) ≡ x > 2
Y (2,\infty) ≡ 2 < x
Y (-\infty, 0] ≡ x \le 0
Y (-\infty, 0] ≡ (-\infty,0]
Y (5,\infty) ≡ (5,\infty]
Y x \in [-2,7] ≡ [-2,7]
Y x \in [-2,7] ≡ -2 \le x \le 7
Y (0,9) \cup (9,36) ≡ (0,9)\cup(9,36)
Y (0,9) \cup (9,36) ≡ (9,36) \cup (0,9)
Y (-\infty, 2) \cup (3, \infty) ≡ (-\infty,2)\cup(3,\infty)
Y \left(\frac{3}{5},\frac{8}{3}\right] ≡ (0.6, 8/3]
Y \left[ \frac{\pi^2}{8}, \frac{5 \pi^2}{4} \right] ≡ [\pi^2/8, 5\pi^2/4]
Y (-\sqrt{3}, \sqrt{3}) ≡ \left(-\sqrt3,\sqrt3\right)
Y [\frac{1}{2}, 8] ≡ [0.5, 8]
Y \left[ -\frac{1}{8}, \frac{1}{8} \right] ≡ [-0.125, 0.125]
Y \left[1-\frac{1}{\sqrt{2}}, \frac{1}{2}\right) ≡ [1-\frac{\sqrt2}{2}, \frac12)
Y [3,193-132\sqrt{2}] ≡ \left[3, 193-132\sqrt2\right]
Y (-\infty,-5) ≡ x<-5
Y k \geqslant 2 ≡ k \ge 2
Y k \geqslant 2 ≡ [2, \infty)
N (3,4] ≡ [3,4]
N (3,4] ≡ (3,4)
N (3,4] ≡ (4,3]
N (2,\infty) ≡ [2,\infty)
N (2,\infty) ≡ x \ge 2
N (2,\infty) ≡ x < 2
N (-\infty, 0] ≡ (-\infty, 0)
N x \in [-2,7] ≡ [-7,2]
N (0,9) \cup (9,36) ≡ (0,36)
N (0,9) \cup (9,36) ≡ (0,9)\cup(9,35)
N [\frac{1}{2}, 8] ≡ (\frac12, 8]
N (-\sqrt{3}, \sqrt{3}) ≡ (\sqrt{3}, -\sqrt{3})
N \left[ -\frac{1}{8}, \frac{1}{8} \right] ≡ \left[ \frac{1}{8}, -\frac{1}{8} \right]
N (-\infty,-5) ≡ x>-5
N k \geqslant 2 ≡ k > 2

# math500: tuples, lists, sets, vectors, matrices
Y (6,31,-1) ≡ (6, 31, -1)
Y \left( 3, \frac{\pi}{2} \right) ≡ (3, \pi/2)
Y \left( \frac{3}{2}, -13 \right) ≡ (1.5, -13)
Y (15,-29) ≡ \left(15,-29\right)
Y (1,-16,-4,43) ≡ (1, -16, -4, 43)
Y 1,-2 ≡ -2, 1
Y 3, 5, 7 ≡ 7, 5, 3
Y 3, 5, 7 ≡ 3,5,7
Y -2,1 ≡ 1,-2
Y \{1\pm\sqrt{5},-2\} ≡ -2, 1+\sqrt{5}, 1-\sqrt{5}
Y \{1,2\} ≡ \{2,1\}
Y \{1,2\} ≡ 1, 2
Y \begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix} ≡ \begin{pmatrix} -\frac13 \\ \frac23 \\ \frac53 \end{pmatrix}
Y \begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix} ≡ (-2,-14,-7)
Y \begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix} ≡ \begin{bmatrix} -1 & 0 \\ 0 & -1 \end{bmatrix}
Y \begin{pmatrix} 1/5 \\ -18/5 \end{pmatrix} ≡ \begin{pmatrix} 0.2 \\ -3.6 \end{pmatrix}
Y \begin{pmatrix} 16/49 \\ 48/49 \\ 24/49 \end{pmatrix} ≡ \frac{1}{49}\cdot\begin{pmatrix} 16 \\ 48 \\ 24 \end{pmatrix}
N (6,31,-1) ≡ (6,-1,31)
N (6,31,-1) ≡ (6,31,1)
N (6,31,-1) ≡ (6,31)
N \left( 3, \frac{\pi}{2} \right) ≡ (\frac{\pi}{2}, 3)
N (15,-29) ≡ (-29,15)
N (15,-29) ≡ 15
N 1,-2 ≡ 1,2
N 3, 5, 7 ≡ 3, 5
N \{1\pm\sqrt{5},-2\} ≡ 1+\sqrt5, -2
N \{1,2\} ≡ \{1,3\}
N \begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix} ≡ (-2,-14,7)
N \begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix} ≡ \begin{pmatrix} -1 & 0 \\ 0 & 1 \end{pmatrix}
N \begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix} ≡ \begin{pmatrix} -1 \\ 0 \\ 0 \\ -1 \end{pmatrix}

# math500: expressions and equations
Y p - q ≡ -q + p
Y x^5 - x^4 + x^3 - x^2 + x - 1 ≡ (x-1)(x^4+x^2+1)
Y x^3+3x-6 ≡ x^3 + 3x - 6
Y (x+1)^2 ≡ x^2+2x+1
Y (a+5)(b+2) ≡ ab+2a+5b+10
Y (a+5)(b+2) ≡ (b+2)(a+5)
Y 2k+2 ≡ 2(k+1)
Y -13x+3 ≡ 3-13x
Y 6r^2-4r-24 ≡ 2(3r^2-2r-12)
Y 8n^2 + 4n + 1 ≡ 1+4n+8n^2
Y 5r^5 ≡ 5 r^{5}
Y 3R^2 ≡ 3 R^2
Y \cot x ≡ \frac{\cos x}{\sin x}
Y \cot x ≡ \frac{1}{\tan x}
Y x^8 + x^7 + x^6 + x^5 + x^4 + x^3 + x^2 + x + 1 ≡ \frac{x^9-1}{x-1}
Y x=5 ≡ 5
Y x=5 ≡ x = 5
Y y = 2x + 3 ≡ y=3+2x
Y y = 2x + 3 ≡ 2x+3
Y y = -2x ≡ y=-2x
Y 5x - 7y + 11z + 4 = 0 ≡ -5x+7y-11z-4=0
Y 5x - 7y + 11z + 4 = 0 ≡ 10x - 14y + 22z + 8 = 0
Y 15x - 80 ≡ 5(3x-16)
Y 2k ≡ 2 k
Y \frac{1}{4} n(n+1) ≡ \frac{n^2+n}{4}
Y \sin^2 x + \cos^2 x ≡ 1
Y \sin 2x ≡ 2\sin x \cos x
Y e^{\ln 5} ≡ 5
Y \log_2 8 ≡ 3
Y \ln(e^2) ≡ 2
Y |x-1| ≡ |1-x|
N p - q ≡ q - p
N x^5 - x^4 + x^3 - x^2 + x - 1 ≡ x^5 - x^4 + x^3 - x^2 + x + 1
N (x+1)^2 ≡ x^2+x+1
N (a+5)(b+2) ≡ (a+2)(b+5)
N 2k+2 ≡ 2k
N -13x+3 ≡ 13x-3
N 6r^2-4r-24 ≡ 6r^2-4r+24
N x=5 ≡ x=-5
N y = 2x + 3 ≡ y = 3x + 2
N y = -2x ≡ y=2x
N 5x - 7y + 11z + 4 = 0 ≡ 5x - 7y + 11z - 4 = 0
N \cot x ≡ \tan x
N \sin 2x ≡ 2\sin x
N \log_2 8 ≡ 4
N x^2 ≡ x^3

# math500: words and choices inside the answer
Y \text{Evelyn} ≡ Evelyn
Y \text{Evelyn} ≡ \text{evelyn}
Y \text{east} ≡ East
Y \text{even} ≡ \text{even}
Y \text{ellipse} ≡ ellipse
Y \text{(C)} ≡ C
Y \text{(C)} ≡ (C)
Y \text{(E)} ≡ \text{(E)}
Y \text{(B)} ≡ \textbf{(B)}
N \text{Evelyn} ≡ Navin
N \text{even} ≡ odd
N \text{east} ≡ west
N \text{(C)} ≡ D
N \text{(E)} ≡ (A)

# minerva: scientific notation, decimals, units
Y 4.4e7 ≡ 4.4 \times 10^7
Y 4.4e7 ≡ 44000000
Y 4.4e7 ≡ 4.4 \cdot 10^{7}
Y 3.83e35 ≡ 3.83 \times 10^{35}
Y 5.3e-9 ≡ 5.3 \times 10^{-9}
Y 1e11 ≡ 10^{11}
Y 1e-5 ≡ 0.00001
Y 3e8 ≡ 3 \times 10^{8}
Y 9e11 ≡ 9 \times 10^{11}
Y 1.70e4 ≡ 17000
Y 2.7778e-6 ≡ 2.7778 \times 10^{-6}
Y 1.325e-27 ≡ 1.325 \times 10^{-27}
Y 27.39 ≡ 27.39
Y 0.54 ≡ .54
Y -1./3 ≡ -\frac{1}{3}
Y -3./2 ≡ -1.5
Y 15000 ≡ 15000 \text{ kcal m}^{-2} \text{yr}^{-1}
Y 41.8 ≡ 41.8^\circ
Y 0.003 ≡ 0.003^{\prime \prime}
Y \frac{37}{4} m ≡ \frac{37m}{4}
Y +2 ≡ 2
Y np.arcsin(10/13) ≡ \arcsin{\frac{10}{13}}
Y np.arcsin(10/13) ≡ \arcsin{\frac{1}{1.3}}
Y 2.2 \tau ≡ 2.2\tau
Y 1+\sqrt{3} i ≡ 2e^{i\pi/3}
N 4.4e7 ≡ 4.4 \times 10^6
N 4.4e7 ≡ 4.5e7
N 3.83e35 ≡ 3.83 \times 10^{-35}
N 5.3e-9 ≡ 5.3e-8
N 5.3e-9 ≡ 5.3
N 27.39 ≡ 27.4
N 27.39 ≡ 27.38
N 0.54 ≡ 0.55
N 1.70e4 ≡ 1.7e3
N -1./3 ≡ 1/3
N 2.2 \tau ≡ 2.2
N 7.26e6 ≡ 7.62e6
N 1.325e-27 ≡ 2.325e-27
N 7.4e-12 ≡ 6.4e-12
N 5.3e-9 ≡ 0

# minerva: formulas with many symbols
Y \frac{K-1}{L} ≡ \frac{K}{L}-\frac{1}{L}
Y m_{p} c^{2}\left(\gamma^{2}-1\right) \sin ^{2} \theta ≡ m_{p} c^{2}(\gamma^{2}-1) \sin ^{2} \theta
Y \left(\frac{t^{2}}{2}-t+C\right) e^{-t} ≡ \left(\frac{t^{2}}{2} - t + C\right) e^{-t}
Y \frac{e^{2 i t}}{(2+2 i)}+C e^{-2 t} ≡ \frac{e^{2it}}{2+2i} + Ce^{-2t}
Y \frac{1}{s+a} ≡ (s+a)^{-1}
Y \frac{1}{s}-\frac{1}{s} e^{-s T} ≡ \frac{1-e^{-sT}}{s}
Y \sqrt{2} \cos (2 t-\pi / 4) ≡ \cos(2t)+\sin(2t)
Y \frac{\cos (2 t)+\sin (2 t)}{4} ≡ \frac{1}{4}\cos(2t) + \frac14\sin(2t)
Y 2 \pi / \omega ≡ \frac{2\pi}{\omega}
Y \frac{1}{2}(\exp{a*t} + \exp{-a*t}) ≡ \cosh(a t)
Y s^{2}+\omega^{2} ≡ \omega^2+s^2
Y x / 2-1 / 4+c e^{-2 x} ≡ \frac{x}{2} - \frac{1}{4} + ce^{-2x}
Y \lambda_{\text {red}} / \sqrt{2} ≡ \frac{\sqrt2}{2}\lambda_{red}
N \frac{K-1}{L} ≡ \frac{K+1}{L}
N \frac{1}{s+a} ≡ \frac{1}{s-a}
N \sqrt{2} \cos (2 t-\pi / 4) ≡ \sqrt{2} \cos (2 t+\pi / 4)
N 2 \pi / \omega ≡ \pi / \omega
N s^{2}+\omega^{2} ≡ s^2-\omega^2
N \frac{1}{2}(\exp{a*t} + \exp{-a*t}) ≡ \sinh(a t)

# olympiadbench: multiple answers, tuples, functions
Y (1,1), (3,2) ≡ (3,2), (1,1)
Y (1,1), (3,2) ≡ (1,1),(3,2)
Y (6,3),(9,3),(9,5),(54,5) ≡ (54,5),(9,5),(9,3),(6,3)
Y (0,2),(0,-2),(4,23),(4,-23) ≡ (4,-23),(4,23),(0,-2),(0,2)
Y (1,8,19), (2,7,13), (4,5,7) ≡ (4,5,7), (1,8,19), (2,7,13)
Y 5,15 ≡ 15, 5
Y 69$,$84 ≡ 69, 84
Y 90^{\circ}$,$60^{\circ} ≡ 60, 90
Y f(x)=2 x ≡ 2x
Y f(x)=2 x ≡ f(x) = 2x
Y f(n)=n ≡ n
Y f(x)=\frac{1}{x} ≡ \frac1x
Y M=\frac{9}{32} \sqrt{2} ≡ \frac{9\sqrt{2}}{32}
Y M=2^{N-2}+1 ≡ 2^{N-2}+1
Y \binom{2n}{n} ≡ \frac{(2n)!}{(n!)^2}
Y \frac{n(n+1)(2 n+1)}{6} ≡ \frac{2n^3+3n^2+n}{6}
Y -(n-1) / 2 ≡ \frac{1-n}{2}
Y n^{2}-n+1 ≡ n(n-1)+1
Y 2^{k-1} ≡ \frac{2^k}{2}
Y (n-2) 2^{n}+1 ≡ n 2^n - 2^{n+1} + 1
Y \frac{1-p^{2}}{3} ≡ \frac{1}{3} - \frac{p^2}{3}
Y (-\sqrt{11},-2)\cup (\sqrt{11},9) ≡ (\sqrt{11},9) \cup (-\sqrt{11},-2)
Y (-\frac{1}{2}, \frac{7}{2}) ≡ (-0.5, 3.5)
Y (312,123,231) ≡ (312, 123, 231)
Y (4, \log _{10} 2) ≡ (4, \log_{10}2)
Y (22+8 \sqrt{6}, 22-8 \sqrt{6})$,$(22-8 \sqrt{6}, 22+8 \sqrt{6}) ≡ (22-8\sqrt6, 22+8\sqrt6), (22+8\sqrt6, 22-8\sqrt6)
Y \frac{9 \sqrt{3}}{20} ≡ \frac{9}{20}\sqrt{3}
Y 2^{1009} ≡ 2^{1009}
Y \frac{79}{128} ≡ 0.6171875
Y a=2$, $a=-6-4 \sqrt{2} ≡ -6-4\sqrt2, 2
Y \lfloor\sqrt{n-1}\rfloor ≡ \left\lfloor \sqrt{n-1} \right\rfloor
Y \lceil n / 2\rceil+1 ≡ \lceil \frac{n}{2} \rceil + 1
N (1,1), (3,2) ≡ (1,1), (2,3)
N (1,1), (3,2) ≡ (1,1)
N (6,3),(9,3),(9,5),(54,5) ≡ (6,3),(9,3),(9,5)
N 5,15 ≡ 5
N 5,15 ≡ 5, 15, 25
N f(x)=2 x ≡ 2x+1
N f(n)=n ≡ n+1
N \binom{2n}{n} ≡ \binom{2n}{n+1}
N \frac{n(n+1)(2 n+1)}{6} ≡ \frac{n(n+1)}{2}
N -(n-1) / 2 ≡ \frac{n-1}{2}
N 2^{k-1} ≡ 2^k
N (-\sqrt{11},-2)\cup (\sqrt{11},9) ≡ (-\sqrt{11},-2)\cup [\sqrt{11},9)
N (312,123,231) ≡ (312,231,123)
N \frac{79}{128} ≡ 0.6172
N a=2$, $a=-6-4 \sqrt{2} ≡ 2, -6+4\sqrt2
N \lfloor\sqrt{n-1}\rfloor ≡ \lceil\sqrt{n-1}\rceil
N m n-\lfloor m / 2\rfloor ≡ m n-\lfloor m / 3\rfloor
N \lfloor\frac{2 n-1}{5}\rfloor ≡ \lfloor\frac{2 n-1}{6}\rfloor

# olympiadbench: numerical answers with tolerance-free decimals
Y 0.5 ≡ \frac12
Y 1.25 ≡ \frac{5}{4}
Y 326.5 ≡ 653/2
Y .35625 ≡ \frac{57}{160}
Y .0000672 ≡ 6.72\times 10^{-5}
Y 3.21 ≡ 3.210
Y 0.15 ≡ 15\%
Y 4.5 ≡ 9/2
N 0.5 ≡ 0.05
N 1.25 ≡ 1.52
N 326.5 ≡ 326
N 3.21 ≡ 3.2
N 4.5 ≡ -4.5

# olymmath: exact forms
Y \frac{21\sqrt{3}}{4} ≡ \frac{21}{4}\sqrt3
Y \frac{19\sqrt{2}+11}{3} ≡ \frac{11+19\sqrt2}{3}
Y \frac{1 + \sqrt{5}}{2} ≡ \frac{\sqrt5+1}{2}
Y 115^{\circ} ≡ 115
Y 126^{\circ} ≡ 126
Y \frac{3\sqrt{2}+\sqrt{6}}{2} ≡ \frac{\sqrt{6}+3\sqrt{2}}{2}
Y 4\sqrt{15}-14 ≡ -14+4\sqrt{15}
Y \frac{10057600}{3} ≡ 3352533\frac{1}{3}
Y \frac{1}{1112111} ≡ 1/1112111
Y \frac{\sqrt{3}\pi}{2} ≡ \frac{\pi\sqrt3}{2}
Y \frac{72\sqrt{3}}{25} ≡ 2.88\sqrt{3}
Y -\frac{5}{2} ≡ -2.5
Y \frac{15\sqrt{2}}{2} ≡ 7.5\sqrt{2}
Y \frac{3\sqrt{21}}{38416} ≡ \frac{3}{38416}\sqrt{21}
Y \sqrt{3} ≡ 3^{1/2}
Y \sqrt{3} ≡ \sqrt3
N \frac{21\sqrt{3}}{4} ≡ \frac{21\sqrt{2}}{4}
N \frac{1 + \sqrt{5}}{2} ≡ \frac{1 - \sqrt{5}}{2}
N 115^{\circ} ≡ 65^{\circ}
N 4\sqrt{15}-14 ≡ 14-4\sqrt{15}
N \frac{10057600}{3} ≡ 3352533
N \frac{1}{1112111} ≡ \frac{1}{1111111}
N -\frac{5}{2} ≡ \frac{5}{2}
N \sqrt{3} ≡ 1.732
N \sqrt{3} ≡ \sqrt[3]{3}

# gpqa: letters
Y A ≡ A
Y B ≡ (B)
Y C ≡ \text{C}
Y D ≡ \textbf{D}
Y B ≡ \text{(B)}
Y C ≡ (C) 10^-4 eV
N A ≡ B
N B ≡ (D)
N C ≡ \text{(A)}
N D ≡ (A) 4

# tricky negatives: near-equal, sign, swaps, structure
N 1000 ≡ 1001
N 1000 ≡ 999.99
N 0.1 ≡ 0.1001
N 100 ≡ 10^3
N 3.14159 ≡ \pi
N \frac{22}{7} ≡ \pi
N \sqrt{2} ≡ 1.4142
N e ≡ 2.718
N -5 ≡ 5
N \frac{-1}{2} ≡ \frac{1}{2}
N -\sqrt{2} ≡ \sqrt{2}
N x - 1 ≡ 1 - x
N \pm 2021 ≡ 2021
N \pm 2 ≡ -2
N \frac{1}{2004!} ≡ \frac{1}{2005!}
N 2^{100} ≡ 2^{100}+1
N 10^{20} ≡ 10^{20}+1
N (1,2) ≡ (2,1)
N (1,2) ≡ [1,2]
N [1,2) ≡ (1,2]
N (a,b) ≡ (b,a)
N \{1,2,3\} ≡ \{1,2\}
N x = 3 ≡ x = -3
N y = x + 1 ≡ y = x - 1
N x^2 + y^2 = 1 ≡ x^2 + y^2 = 2
N x > 3 ≡ x < 3
N x \le 3 ≡ x < 3
N 1 ≡ \{1, 2\}
N 0 ≡ \emptyset
N 2 ≡ i
N 1 ≡ -1
N 12 ≡ 21
N 1,000 ≡ 100
N 2\sqrt{2} ≡ \sqrt{2}^5
Y 2\sqrt{2} ≡ \sqrt{2}^3
N \sin x ≡ \cos x
N \log 2 ≡ \log 3
N \infty ≡ -\infty
N 0 ≡ 0.000001

# tricky positives: spelling variety
Y 1000 ≡ 1000.0
Y 1000 ≡ 1,000
Y 1000 ≡ 10^3
Y 0.25 ≡ \frac{1}{4}
Y 0.25 ≡ 25\%
Y -5 ≡ - 5
Y -5 ≡ (-5)
Y \frac{-1}{2} ≡ -\frac{1}{2}
Y \frac{1}{-2} ≡ -0.5
Y \pm 2 ≡ 2, -2
Y \pm 2 ≡ -2, 2
Y \pm 2 ≡ \{-2, 2\}
Y x = \pm 3 ≡ 3, -3
Y x^2 + y^2 = 1 ≡ y^2 + x^2 = 1
Y x^2 + y^2 = 1 ≡ 1 = x^2 + y^2
Y x > 3 ≡ 3 < x
Y \infty ≡ \infty
Y -\infty ≡ -\infty
Y \emptyset ≡ \varnothing
Y \emptyset ≡ \{\}
Y e ≡ \exp(1)
Y e^2 ≡ \exp(2)
Y i^2 ≡ -1
Y \sqrt{-1} ≡ i
Y \frac{\pi}{4} ≡ \arctan 1
Y \frac{\pi}{3} ≡ \arccos(1/2)
Y \sin(\pi/6) ≡ 1/2
Y \cos\frac{\pi}{3} ≡ \frac12
Y \tan\frac{\pi}{4} ≡ 1
Y 3! ≡ 6
Y 5! ≡ 120
Y \binom{5}{2} ≡ 10
Y |{-3}| ≡ 3
Y \lfloor 3.7 \rfloor ≡ 3
Y \lceil 3.2 \rceil ≡ 4
Y 2^{-1} ≡ 0.5
Y 8^{1/3} ≡ 2
Y (-8)^{1/3} ≡ -2
Y \sqrt{8} ≡ 2\sqrt{2}
Y \frac{\sqrt{8}}{2} ≡ \sqrt2
Y \sqrt{\frac{1}{2}} ≡ \frac{\sqrt2}{2}
Y \frac{1}{\sqrt{2}+1} ≡ \sqrt{2}-1
Y \frac{2}{\sqrt{3}} ≡ \frac{2\sqrt{3}}{3}
Y 10^{-3} ≡ 0.001
Y 1.5 \times 10^{3} ≡ 1500
Y 2 \cdot 3 ≡ 6
Y 12 \div 4 ≡ 3
Y a^2 b ≡ b a^2
Y \frac{a}{b} ≡ a b^{-1}
Y \frac{x^2-1}{x-1} ≡ x+1
Y x \cdot y ≡ xy
Y 2(x+y) ≡ 2x+2y
Y \alpha + \beta ≡ \beta + \alpha
Y a_1 + a_2 ≡ a_{2} + a_{1}
Y \text{5} ≡ 5
Y \mathbf{5} ≡ 5
Y \displaystyle\frac{1}{2} ≡ 1/2
Y \left(\frac{1}{2}\right) ≡ \frac{1}{2}
Y {\frac{1}{2}} ≡ \frac{1}{2}
Y \boxed{5} ≡ 5
Y 5 \quad ≡ 5
Y \, 5 \, ≡ 5
`;

export function labelledCases(): LabelledCase[] {
  const cases: LabelledCase[] = [];
  let section = 'unsectioned';
  for (const rawLine of CASES.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    if (line.startsWith('# ')) {
      section = line.slice(2).trim();
      continue;
    }
    const match = /^([YN]) (.*) ≡ (.*)$/.exec(line);
    if (!match) throw new Error(`labelled-cases: malformed line ${JSON.stringify(line)}`);
    cases.push({ section, gold: match[2] ?? '', predicted: match[3] ?? '', expected: match[1] === 'Y' });
  }
  return cases;
}
